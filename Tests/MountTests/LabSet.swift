import Catalog
import Foundation
import GPG
import Mount
import POSIX
import Repository
import Sodium
import Support
import Vaulthalla

/// A repository and catalog holding sets of a small Vaulthalla host built on disk, every item stored as
/// docs/set-layout.md says, through the public Repository and Catalog APIs. `image` keeps the originals.
final class LabSet: @unchecked Sendable {
    static let passphrase = Data("mount tests".utf8)
    static let host = "labhost"

    let folder: String
    var image: String { folder + "/image" }
    var repositoryPath: String { folder + "/repo" }
    var catalogPath: String { folder + "/catalog.db" }
    let repository: Repository
    let catalog: Catalog
    let gnupgHome: String
    let recipient: String
    /// Logical vault path -> original plaintext, for the files the current keys open.
    private(set) var plaintexts: [String: Data] = [:]
    private(set) var sets: [SetRecord] = []
    /// The last set's vault index node: the next one is stored as a patch on it.
    private(set) var lastVaultIndex: Node?
    /// Where `var/lib/vaulthalla` bodies of vault alpha live, by logical path.
    private(set) var aliases: [String: String] = [:]

    /// Vault keys: alpha rotated from version 1 to 2, beta at version 1.
    let alphaV1 = Sodium.randomBytes(32), alphaV2 = Sodium.randomBytes(32), betaV1 = Sodium.randomBytes(32)

    static func make(bigFileBytes: Int = 6 << 20, name: String = #function) async throws -> LabSet {
        let environment = ProcessInfo.processInfo.environment
        guard let home = environment["VALKYRIE_TEST_GNUPGHOME"], let fpr = environment["VALKYRIE_TEST_GPG_FPR"] else {
            throw OperatorError.failed("VALKYRIE_TEST_GNUPGHOME / VALKYRIE_TEST_GPG_FPR are not set",
                                       remedy: "run `scripts/services start DIR` and source DIR/env (scripts/test does)")
        }
        let folder = NSTemporaryDirectory() + "valkyrie-mount-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            let repository = try await Repository.initialize(backend: LocalBackend(path: folder + "/repo"),
                                                             slot: .passphrase(passphrase, cost: .interactive), label: "mount tests")
            let catalog = try Catalog.open(at: folder + "/catalog.db", mode: .create)
            let lab = LabSet(folder: folder, repository: repository, catalog: catalog, gnupgHome: home, recipient: fpr)
            try lab.buildImage(bigFileBytes: bigFileBytes)
            try await lab.addSet()
            return lab
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    private init(folder: String, repository: Repository, catalog: Catalog, gnupgHome: String, recipient: String) {
        self.folder = folder
        self.repository = repository
        self.catalog = catalog
        self.gnupgHome = gnupgHome
        self.recipient = recipient
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// The path of `relative` in the image (the host's original).
    func original(_ relative: String) -> String { "\(image)/\(relative)" }

    /// Tree roots of the set, by their path in the set.
    static let treeRoots = ["postgres", "etc/vaulthalla", "var/lib/vaulthalla", "var/lib/swtpm/vaulthalla", "exports", "keys", "s3"]

    private func write(_ relative: String, _ data: Data, mode: Int = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) throws {
        let path = original(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: mode]) else {
            throw OperatorError.failed("cannot write \(path)")
        }
        guard chown(path, uid, gid) == 0 else { throw OperatorError.failed("cannot chown \(path)") }
    }

    private func buildImage(bigFileBytes: Int) throws {
        try write("postgres/vaulthalla.dump", Data("PGDMP".utf8) + Sodium.randomBytes(300_000), mode: 0o600)
        try write("postgres/vaulthalla.toc.txt", Data(";\n; Archive created at 2026-11-29\n3 2615 2200 SCHEMA - public\n".utf8))
        try write("etc/vaulthalla/config.yaml", Data("server:\n  port: 8443\ndatabase:\n  name: vaulthalla\n".utf8), mode: 0o640, gid: 998)
        try write("etc/vaulthalla/certs/server.pem", Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8))
        try write("var/lib/swtpm/vaulthalla/tpm2-00.permall", Sodium.randomBytes(4096), mode: 0o600, uid: 997, gid: 997)
        try write("var/lib/vaulthalla/.sealed_db-password.priv", Sodium.randomBytes(160), mode: 0o600, uid: 998, gid: 998)

        // Vault alpha (local): bodies under alias names; one current, one whose recorded key version is stale
        // (re-encrypted under version 2 but recorded as 1), one stored in plaintext (empty IV) and large.
        var lines: [VaultIndexLine] = [VaultIndexLine(vault: "alpha", path: "/docs", kind: .directory)]
        let a = Data("quarterly numbers, current key\n".utf8), stale = Data("rotated body, stale recorded version\n".utf8)
        let big = Sodium.randomBytes(bigFileBytes)
        // And one still on key version 1, which the export (current versions only) cannot open.
        for (logical, plain, key, recorded, encrypted) in [("/docs/report.txt", a, alphaV2, 2, true),
                                                           ("/docs/stale.txt", stale, alphaV2, 1, true),
                                                           ("/docs/old.txt", Data("old key\n".utf8), alphaV1, 1, true),
                                                           ("/big.bin", big, alphaV2, 2, false)] {
            let alias = Alias.make(name: String(logical.split(separator: "/").last!), random: Sodium.randomBytes(Alias.randomByteCount))
            let relative = "var/lib/vaulthalla/users/admin/\(alias)"
            aliases[logical] = relative
            var iv = "", body = plain
            if encrypted {
                let nonce = Sodium.randomBytes(BodyCipher.nonceSize)
                body = try BodyCipher.seal(plain, key: key, nonce: nonce)
                iv = BodyCipher.ivString(nonce)
            }
            try write(relative, body, mode: 0o600, uid: 998, gid: 998)
            if key != alphaV1 { plaintexts["alpha" + logical] = plain }
            lines.append(VaultIndexLine(vault: "alpha", path: logical, kind: .file, backingPath: "/" + relative,
                                        size: Int64(plain.count), iv: iv, keyVersion: recorded,
                                        contentHash: ContentHash.hex(of: body), format: 1))
        }
        // And one damaged after Vaulthalla wrote it: a flipped byte, so no key verifies it and its hash differs.
        let damagedAlias = Alias.make(name: "damaged.txt", random: Sodium.randomBytes(Alias.randomByteCount))
        let damagedNonce = Sodium.randomBytes(BodyCipher.nonceSize)
        let written = try BodyCipher.seal(Data("bit rot\n".utf8), key: alphaV2, nonce: damagedNonce)
        var damaged = written
        damaged[damaged.startIndex + 3] ^= 0x40
        try write("var/lib/vaulthalla/users/admin/\(damagedAlias)", damaged, mode: 0o600, uid: 998, gid: 998)
        lines.append(VaultIndexLine(vault: "alpha", path: "/docs/damaged.txt", kind: .file,
                                    backingPath: "/var/lib/vaulthalla/users/admin/\(damagedAlias)", size: 8,
                                    iv: BodyCipher.ivString(damagedNonce), keyVersion: 2, contentHash: ContentHash.hex(of: written), format: 1))
        // Vault beta (S3): an object with its user metadata as xattrs.
        let object = Data("s3 object body\n".utf8), nonce = Sodium.randomBytes(BodyCipher.nonceSize)
        let sealed = try BodyCipher.seal(object, key: betaV1, nonce: nonce)
        try write("s3/beta/photos/cat.jpg", sealed)
        try ExtendedAttributes.set(original("s3/beta/photos/cat.jpg"), "user.vh-iv", Data(BodyCipher.ivString(nonce).utf8))
        try ExtendedAttributes.set(original("s3/beta/photos/cat.jpg"), "user.vh-key-version", Data("1".utf8))
        try write("s3/beta/.vaulthalla/manifest.json", Data("{\"vault\":\"beta\"}\n".utf8))
        plaintexts["beta/photos/cat.jpg"] = object
        lines += [VaultIndexLine(vault: "beta", path: "/photos", kind: .directory),
                  VaultIndexLine(vault: "beta", path: "/photos/cat.jpg", kind: .file, backingPath: "/s3/beta/photos/cat.jpg",
                                 size: Int64(object.count), iv: BodyCipher.ivString(nonce), keyVersion: 1,
                                 contentHash: ContentHash.hex(of: sealed), format: 1)]
        let index = try lines.map { try JSONFormat.encoder().encode($0) + Data("\n".utf8) }.reduce(Data(), +)
        try write("valkyrie/vault-index.jsonl", index, mode: 0o600)
        try write("valkyrie/version.json", Data(#"{"host":"labhost","tpm_mode":"swtpm","vh_version":"1.2.0"}"#.utf8))

        // Key exports, as `vh vault keys export` writes them (current versions only), encrypted to the operator.
        let gpg = try GPGContext(homeDirectory: gnupgHome)
        let alpha = keyExport(alphaV2, version: 2, id: 1, name: "alpha"), beta = keyExport(betaV1, version: 1, id: 2, name: "beta")
        try write("exports/vault-keys.json.asc", try gpg.encrypt(try VaultKeyExport.render([alpha, beta], single: false, pretty: false), to: [recipient]), mode: 0o600)
        try write("exports/secrets.json.asc", try gpg.encrypt(Data(#"[{"name":"db-password","secret":"x"}]"#.utf8), to: [recipient]), mode: 0o600)
        try write("keys/alpha.json.asc", try gpg.encrypt(try VaultKeyExport.render([alpha], single: true, pretty: false), to: [recipient]), mode: 0o600)
        try write("keys/beta.json.asc", try gpg.encrypt(try VaultKeyExport.render([beta], single: true, pretty: false), to: [recipient]), mode: 0o600)
    }

    func keyExport(_ key: Data, version: Int, id: Int, name: String) -> VaultKeyExport {
        VaultKeyExport(key: key.base64EncodedString(),
                       keyInfo: .init(keyVersion: version, createdAt: "2026-11-01T00:00:00Z", exportedAt: "2026-11-29T00:00:00Z",
                                      exportedBy: "admin", sealedBy: "tpm"),
                       vaultID: id, vaultName: name)
    }

    /// The plaintext key export (what `--keys FILE` takes).
    func plaintextKeyExport() throws -> Data {
        try VaultKeyExport.render([keyExport(alphaV2, version: 2, id: 1, name: "alpha"), keyExport(betaV1, version: 1, id: 2, name: "beta")],
                                  single: false, pretty: true)
    }

    /// Stores the image as a new set and records and indexes it; `startedAt` must differ by a second between sets.
    @discardableResult
    func addSet(startedAt: Date = Date(), warnings: [String] = []) async throws -> SetRecord {
        let writer = try await repository.beginSet()
        var roots: [String: Snapshot.Root] = [:]
        for root in Self.treeRoots { roots[root] = .tree(try await writer.storeDirectory(at: original(root)).tree) }
        roots["valkyrie/version.json"] = .file(try await writer.storeFile(try Data(contentsOf: URL(fileURLWithPath: original("valkyrie/version.json"))),
                                                                          name: "version.json"))
        // The vault index as the backup stores it: a patch on the previous set's where that pays.
        guard let index = FileHandle(forReadingAtPath: original("valkyrie/vault-index.jsonl")) else {
            throw OperatorError.failed("cannot read \(original("valkyrie/vault-index.jsonl"))")
        }
        defer { try? index.close() }
        let indexNode = try await writer.storeStream(index, patchingOn: lastVaultIndex, name: "vault-index.jsonl")
        roots["valkyrie/vault-index.jsonl"] = .file(indexNode)
        lastVaultIndex = indexNode
        let snapshot = try await writer.commit(metadata: .object(["host": .string(Self.host)]), roots: roots)
        let set = try catalog.startSet(host: Self.host, startedAt: startedAt, valkyrieVersion: "test", items: roots.keys.sorted())
        for (item, root) in roots.sorted(by: { $0.key < $1.key }) {
            let keyMaterial = ["exports", "keys", "var/lib/swtpm/vaulthalla"].contains(item)
            try catalog.append(ItemCaptured(set: set.id, item: item, root: SnapshotContents.itemRoot(root), digest: snapshot.id.hex,
                                            size: 0, files: 0, keyMaterial: keyMaterial))
        }
        try catalog.append(ExportRecorded(set: set.id, export: "vault-keys", recipients: [recipient], vaults: ["alpha", "beta"],
                                          digest: "", size: 0))
        try catalog.append(BackupCompleted(set: set.id, warnings: warnings))
        let completed = try catalog.requireSet(set.id.uuidString)
        let contents = SnapshotContents(repository: repository)
        contents.register(completed, snapshot: snapshot.snapshot)
        let catalog = self.catalog
        try await onThread { try catalog.index(completed, from: contents) }
        sets.append(completed)
        return completed
    }
}

/// Runs blocking work on a thread of its own (it waits on repository tasks, so never on the cooperative pool).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
