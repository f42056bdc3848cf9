#!/usr/bin/env python3
"""Checks a lab host's bodies without any of Valkyrie's code: psql for the rows, Python's `cryptography`
(AESGCM) for format-1 decryption, hashlib for BLAKE2b-256 and SHA-256, boto3 for the S3 objects.

usage: independent_check.py ROOT SAMPLE_EVERY   (prints a JSON report; exit 0 when nothing disagrees)
"""
import base64, hashlib, json, os, subprocess, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

root, every = sys.argv[1], int(sys.argv[2])
state = json.load(open(os.path.join(root, "lab/state.json")))
db = state["database"]
conninfo = f"host={db['host']} port={db['port']} dbname={db['name']} user={db['role']}"
psql = os.path.join(os.environ.get("VALKYRIE_TEST_PGBIN", "/usr/bin"), "psql")
if not os.path.exists(psql):
    psql = "psql"

def rows(sql):
    out = subprocess.run([psql, conninfo, "-At", "-F", "\t", "-c", sql], check=True, capture_output=True).stdout
    return [line.split("\t") for line in out.decode().splitlines() if line]

manifest = {}
for line in open(os.path.join(root, "lab/manifest.tsv")):
    ident, digest, size = line.rstrip("\n").split("\t")
    manifest[int(ident)] = (digest, int(size))

# Vault keys: unwrap vault_keys / vault_keys_trashed with vault_master, and compare with the lab's truth.
vault_master = base64.b64decode(state["secrets"]["vaultMaster"])
keys, failures = {}, []
for vault_id, version, wrapped, iv in rows(
        "SELECT vault_id, version, encode(encrypted_key, 'hex'), encode(iv, 'hex') FROM vault_keys "
        "UNION ALL SELECT vault_id, version, encode(encrypted_key, 'hex'), encode(iv, 'hex') FROM vault_keys_trashed"):
    key = AESGCM(vault_master).decrypt(bytes.fromhex(iv), bytes.fromhex(wrapped), None)
    keys.setdefault(int(vault_id), {})[int(version)] = key
for truth in state["vaultKeys"]:
    if keys.get(truth["vaultID"], {}).get(truth["version"]) != base64.b64decode(truth["key"]):
        failures.append(f"vault {truth['vaultID']} key v{truth['version']} differs")

# Backing paths: the vault root's alias (vault.mount_point) and the aliases down the parent chain.
entries = {int(i): (p and int(p), a, path, v and int(v)) for i, p, a, path, v in
           rows("SELECT id, coalesce(parent_id::text, ''), base32_alias, path, coalesce(vault_id::text, '') FROM fs_entry")}
mounts = {int(i): m for i, m in rows("SELECT id, mount_point FROM vault")}
buckets = {int(i): b for i, b in rows("SELECT vault_id, bucket FROM s3")}

def backing(ident):
    parts = []
    while True:
        parent, alias, path, vault = entries[ident]
        parts.append(alias)
        if path == "/":
            assert alias == mounts[vault], f"vault root {ident} is not the vault's mount point"
            return "/".join(reversed(parts))
        ident = parent

s3 = None
if buckets:
    import boto3
    s3 = boto3.client("s3", endpoint_url=state["s3"]["endpoint"], region_name=state["s3"]["region"],
                      aws_access_key_id=state["s3"]["accessKeyID"], aws_secret_access_key=state["s3"]["secretAccessKey"])

report = {"checked": 0, "encrypted": 0, "plaintext": 0, "s3": 0}
files = rows("SELECT fs_entry_id, size_bytes, content_hash, encryption_iv, coalesce(encrypted_with_key_version::text, '') "
             "FROM files ORDER BY fs_entry_id")
for n, (ident, size, content_hash, iv, recorded) in enumerate(files):
    if n % every:
        continue
    ident = int(ident)
    vault = entries[ident][3]
    body = open(os.path.join(root, "var/lib/vaulthalla", backing(ident)), "rb").read()
    report["checked"] += 1
    if hashlib.blake2b(body, digest_size=32).hexdigest() != content_hash:
        failures.append(f"{entries[ident][2]}: BLAKE2b-256 of the body is not files.content_hash")
    if iv == "":
        plaintext = body
        report["plaintext"] += 1
    else:
        nonce = base64.b64decode(iv)
        order = sorted(keys[vault], key=lambda v: (v != (int(recorded) if recorded else None), -v))
        plaintext = None
        for version in order:
            try:
                plaintext = AESGCM(keys[vault][version]).decrypt(nonce, body, None)
                break
            except Exception:
                continue
        if plaintext is None:
            failures.append(f"{entries[ident][2]}: no key of vault {vault} opens it")
            continue
        report["encrypted"] += 1
    if len(plaintext) != int(size):
        failures.append(f"{entries[ident][2]}: plaintext size {len(plaintext)} != size_bytes {size}")
    if manifest.get(ident, ("", 0))[0] != hashlib.sha256(plaintext).hexdigest():
        failures.append(f"{entries[ident][2]}: plaintext differs from the lab manifest")
    if vault in buckets:
        obj = s3.get_object(Bucket=buckets[vault], Key=entries[ident][2][1:])
        meta = obj["Metadata"]
        if obj["Body"].read() != body or meta.get("vh-iv") != iv or meta.get("vh-encrypted") != "true" \
                or meta.get("content-hash") != content_hash or meta.get("vh-algo") != "aes256gcm":
            failures.append(f"{entries[ident][2]}: S3 object differs from the local body or its metadata")
        report["s3"] += 1
for vault, bucket in buckets.items():
    index = json.loads(s3.get_object(Bucket=bucket, Key=".vaulthalla/index-v1.json")["Body"].read())
    if index["version"] != 1 or index["vault_id"] != vault or index["object_count"] != len(index["objects"]):
        failures.append(f"bucket {bucket}: index-v1.json is not consistent")
report["failures"] = failures
print(json.dumps(report))
sys.exit(1 if failures else 0)
