import Capture
import Foundation
import LibPQ
import Vaulthalla

/// Sampled vault files: the body from the set, its BLAKE2b-256 equal to `files.content_hash`, decrypted with the
/// set's exported key (GCM tag verified), plaintext as long as `files.size_bytes`.
struct FileChecks {
    let source: SetSource
    let database: VaulthallaDatabase
    let exported: ExportedKeys
    /// Every key version, unwrapped through the restored swtpm state (empty when the host has none).
    let unwrapped: [Int: VaultKeyring]
    let sample: Int

    /// The exported key first; older versions only from the unwrapped keyring.
    func keyring(_ vault: VaulthallaDatabase.Vault) -> VaultKeyring? {
        var keys = unwrapped[vault.id]?.keys ?? [:]
        guard let export = exported.keys[vault.id] else { return keys.isEmpty ? nil : unwrapped[vault.id] }
        keys[export.version] = export.key
        return VaultKeyring(vaultID: vault.id, keys: keys, currentVersion: export.version)
    }

    /// Files to sample: those encrypted at the exported key version first (the export alone must open them).
    func pick(_ files: [VaulthallaDatabase.FileEntry], vault: VaulthallaDatabase.Vault) -> [VaulthallaDatabase.FileEntry] {
        let version = exported.keys[vault.id]?.version
        let atExport = files.filter { $0.keyVersion == version }.shuffled()
        let others = files.filter { $0.keyVersion != version }.shuffled()
        return Array((atExport + others).prefix(sample))
    }

    func local() async -> CheckResult {
        let start = Date()
        var log = CheckLog()
        do {
            for vault in try database.vaults() where vault.type != "s3" && !vault.deleted {
                let files = try database.files(vaultID: vault.id)
                guard !files.isEmpty else { log.pass("vault \(vault.name): no files"); continue }
                guard let keyring = keyring(vault) else { log.fail("vault \(vault.name): no key to decrypt with"); continue }
                for file in pick(files, vault: vault) {
                    guard let node = try await source.node(SetLayout.varLib, file.backingPath) else {
                        log.fail("vault \(vault.name) \(file.logicalPath): no body at var/lib/vaulthalla/\(file.backingPath) in the set")
                        continue
                    }
                    log.expect(file: file, vault: vault.name, keyring: keyring, body: try await source.read(node),
                               from: "var/lib/vaulthalla/\(file.backingPath)")
                }
            }
        } catch {
            log.fail("\(error)")
        }
        return log.result("local vault files", since: start)
    }

    /// Encrypted upstream objects of each S3 vault, from `s3/<vault>/<key>` with the IV of their `vh-iv` metadata.
    func s3() async -> CheckResult {
        let start = Date()
        var log = CheckLog()
        do {
            let vaults = try database.vaults().filter { $0.type == "s3" && !$0.deleted }
            guard !vaults.isEmpty else { return CheckLog(lines: ["no S3 vaults"]).result("S3 vault objects", since: start) }
            for vault in vaults {
                let rows = try database.connection.query(
                    "SELECT object_key FROM remote_object_index WHERE vault_id = $1 AND encrypted ORDER BY object_key", [String(vault.id)])
                let keys = (0..<rows.count).compactMap { rows[$0, "object_key"] }.shuffled().prefix(sample)
                guard !keys.isEmpty else { log.pass("vault \(vault.name): no encrypted objects"); continue }
                guard let keyring = keyring(vault) else { log.fail("vault \(vault.name): no key to decrypt with"); continue }
                for key in keys {
                    guard var file = try database.resolve(vaultID: vault.id, logicalPath: "/" + key) else {
                        log.fail("vault \(vault.name) object \(key): no files row for /\(key)")
                        continue
                    }
                    guard let node = try await source.node(SetLayout.s3, "\(vault.name)/\(key)") else {
                        log.fail("vault \(vault.name) object \(key): not in the set's s3 root")
                        continue
                    }
                    guard let iv = node.xattrs?.first(where: { $0.name == "user.vh-iv" }).map({ String(decoding: $0.value, as: UTF8.self) }) else {
                        log.fail("vault \(vault.name) object \(key): no vh-iv metadata captured")
                        continue
                    }
                    if iv != file.encryptionIV { log.fail("vault \(vault.name) object \(key): vh-iv differs from files.encryption_iv") }
                    file.encryptionIV = iv
                    log.expect(file: file, vault: vault.name, keyring: keyring, body: try await source.read(node), from: "s3/\(vault.name)/\(key)")
                }
            }
        } catch {
            log.fail("\(error)")
        }
        return log.result("S3 vault objects", since: start)
    }
}

extension CheckLog {
    /// One body checked by `VaultKeyring.open` (hash, tag, size), its outcome as a line.
    mutating func expect(file: VaulthallaDatabase.FileEntry, vault: String, keyring: VaultKeyring, body: Data, from path: String) {
        do {
            let opened = try keyring.open(file, body: body)
            pass("vault \(vault) \(file.logicalPath) (\(path)): BLAKE2b-256 = files.content_hash \(file.contentHash?.prefix(16) ?? "none")…, "
                 + "GCM tag valid under key version \(opened.keyVersion.map(String.init) ?? "none (plaintext)"), \(opened.plaintext.count) bytes = files.size_bytes")
        } catch {
            fail("vault \(vault) \(file.logicalPath) (\(path)): \(error)")
        }
    }
}
