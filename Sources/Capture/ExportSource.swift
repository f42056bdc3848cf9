import Foundation
import GPG
import Repository
import Sodium
import Support
import Synchronization
import Vaulthalla

/// The `exports` and `keys` roots: `vh vault keys export` (all, and per vault) and `vh secret export all`,
/// checked and stored as armored OpenPGP encrypted to the configured recipient.
struct ExportSource: Sendable {
    let settings: CaptureSettings
    let writer: SetWriter
    /// Vaults as the database snapshot lists them, and their current key versions.
    let vaults: [VaulthallaDatabase.Vault]
    let currentVersions: [Int: Int]

    /// One stored export, for the `export.recorded` event.
    struct Recorded: Sendable {
        var export: String
        var vault: String?
        var vaults: [String]
        var recipients: [String]
        var digest: String
        var size: Int64
    }

    func capture() async throws -> (exports: CapturedItem, keys: CapturedItem, recorded: [Recorded]) {
        let started = Date()
        // vh and gpg block: on a thread of their own, so the walks running meanwhile keep both pool threads.
        let (recipient, all, secrets, perVault) = try await onOwnThread { try self.encryptedExports() }
        var recorded: [Recorded] = []
        var exportNodes: [Node] = []
        for (file, blob, kind, covered) in [("vault-keys.json.asc", all, "vault-keys", vaults.map(\.name)),
                                            ("secrets.json.asc", secrets, "secrets", [String]())] {
            exportNodes.append(try await writer.storeFile(blob, name: file, mode: 0o600, mtime: started))
            recorded.append(Recorded(export: kind, vault: nil, vaults: covered, recipients: [recipient],
                                     digest: "sha256:" + ContentHash.sha256Hex(blob), size: Int64(blob.count)))
        }
        var keyNodes: [Node] = []
        for (vault, blob) in zip(vaults, perVault) {
            keyNodes.append(try await writer.storeFile(blob, name: "\(Self.fileName(vault.name)).json.asc", mode: 0o600, mtime: started))
            recorded.append(Recorded(export: "vault-key", vault: vault.name, vaults: [vault.name], recipients: [recipient],
                                     digest: "sha256:" + ContentHash.sha256Hex(blob), size: Int64(blob.count)))
        }
        let exportsTree = try await writer.storeTree(Tree(nodes: exportNodes))
        let keysTree = try await writer.storeTree(Tree(nodes: keyNodes))
        return (CapturedItem(root: SetLayout.exports, value: .tree(exportsTree), files: exportNodes.count,
                             bytes: exportNodes.reduce(0) { $0 + $1.size }, started: started),
                CapturedItem(root: SetLayout.keys, value: .tree(keysTree), files: keyNodes.count,
                             bytes: keyNodes.reduce(0) { $0 + $1.size }, started: started),
                recorded)
    }

    /// Runs every export: the recipient's fingerprint, the two exports of all, and one per vault in `vaults` order.
    /// Two at a time (each mostly waits on its vh and gpg processes), each with its own gpgme context; the first
    /// failure in that order is thrown. Read from vh's stdout, a vault's own export is its entry of the `all`
    /// array (vaulthalla-formats.md), so vh runs twice whatever the number of vaults; vh-encrypts mode, which
    /// never sees the plaintext, asks vh once per vault.
    private func encryptedExports() throws -> (recipient: String, all: Data, secrets: Data, perVault: [Data]) {
        let recipient = try recipientKey(try GPGContext(homeDirectory: settings.exports.gnupgHome))
        let fromAll = settings.exports.mode == .stdout
        let derived = Mutex<[Data]>([])
        let jobs: [(arguments: [String], name: String, check: @Sendable (Data) throws -> Void)] = [
            (["vault", "keys", "export", "all"], "vault keys export all", { @Sendable plain in
                try checkKeys(plain, expected: vaults)
                guard fromAll else { return }
                let pieces = try perVaultExports(all: plain, recipient: recipient)
                derived.withLock { $0 = pieces }
            }),
            (["secret", "export", "all"], "secret export all", { @Sendable plain in try checkSecrets(plain) }),
        ] + (fromAll ? [] : vaults.map { vault in
            (["vault", "keys", "export", String(vault.id)], "vault keys export \(vault.name)", { @Sendable plain in try checkKeys(plain, expected: [vault]) })
        })
        let results = Mutex([Result<Data, Error>?](repeating: nil, count: jobs.count))
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            let result = Result {
                try export(jobs[i].arguments, name: jobs[i].name, gpg: try GPGContext(homeDirectory: settings.exports.gnupgHome),
                           recipient: recipient, check: jobs[i].check)
            }
            results.withLock { $0[i] = result }
        }
        let blobs = try results.withLock { $0 }.map { try $0!.get() }
        return (recipient.fingerprint, blobs[0], blobs[1], fromAll ? derived.withLock { $0 } : Array(blobs.dropFirst(2)))
    }

    /// Each vault's entry of a checked `all` export, checked as its own export and encrypted, in `vaults` order.
    private func perVaultExports(all plain: Data, recipient: GPGKey) throws -> [Data] {
        var entries = try VaultKeyExport.entries(ofAll: plain)
        defer { for id in entries.keys { Sodium.wipe(&entries[id]!) } }
        let gpg = try GPGContext(homeDirectory: settings.exports.gnupgHome)
        return try vaults.map { vault in
            guard let entry = entries[vault.id] else {
                throw OperatorError.failed("the vault key export has no entry for vault \(vault.name) (id \(vault.id))",
                                           remedy: "run `vh vault keys export all` by hand and compare with `vh vaults`")
            }
            try checkKeys(entry, expected: [vault])
            return try gpg.encrypt(entry, to: [recipient.fingerprint], armor: true)
        }
    }

    /// A vault name as one file name: `/` and NUL cannot appear in it.
    static func fileName(_ name: String) -> String {
        name.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\0", with: "_")
    }

    private func recipientKey(_ gpg: GPGContext) throws -> GPGKey {
        let fpr = settings.exports.recipient
        guard let key = try gpg.key(fpr) else {
            throw OperatorError.badInput("the GPG recipient \(fpr) is not in the keyring \(settings.exports.gnupgHome ?? "$GNUPGHOME")",
                                         remedy: "import the operator's public key (gpg --import) or fix exports.recipient in the config")
        }
        guard key.canEncrypt else {
            throw OperatorError.badInput("the GPG key \(fpr) cannot encrypt (revoked, expired or without an encryption subkey)",
                                         remedy: "use a valid encryption key as exports.recipient")
        }
        return key
    }

    /// Runs one export and returns the armored OpenPGP message, after `check` accepted the plaintext.
    private func export(_ arguments: [String], name: String, gpg: GPGContext, recipient: GPGKey,
                        check: (Data) throws -> Void) throws -> Data {
        switch settings.exports.mode {
        case .stdout:
            var plain = try runVh(arguments, name: name).stdout
            defer { Sodium.wipe(&plain) }
            try check(plain)
            return try gpg.encrypt(plain, to: [recipient.fingerprint], armor: true)
        case .vhEncrypts:
            return try exportThroughVh(arguments, name: name, gpg: gpg, recipient: recipient, check: check)
        }
    }

    private func runVh(_ arguments: [String], name: String) throws -> Subprocess.Result {
        guard FileManager.default.isExecutableFile(atPath: settings.vh) || !settings.vh.contains("/") else {
            throw OperatorError.badInput("vh is not at \(settings.vh)", remedy: "install Vaulthalla's client or fix vh in the config")
        }
        let result = try Subprocess.run(settings.vh, arguments)
        guard result.status == 0 else {
            throw OperatorError.failed("`vh \(name)` failed (exit \(result.status)): \(result.stderrSummary)",
                                       remedy: "check that the Vaulthalla daemon runs (`vh status`)")
        }
        return result
    }

    /// `vh ... --output FILE --recipient FPR` into a private 0700 folder; the file must be there, armored, and
    /// encrypted to the recipient; with the secret key at hand it is decrypted and checked too.
    private func exportThroughVh(_ arguments: [String], name: String, gpg: GPGContext, recipient: GPGKey,
                                 check: (Data) throws -> Void) throws -> Data {
        let folder = try PrivateFolder(parent: settings.exports.temporaryDirectory)
        defer { folder.remove() }
        let target = "\(folder.path)/export.json.asc"
        _ = try runVh(arguments + ["--output", target, "--recipient", recipient.fingerprint], name: name)
        guard let armored = FileManager.default.contents(atPath: target) else {
            throw OperatorError.failed("`vh \(name)` did not write \(target)",
                                       remedy: "vh wrote its export somewhere else; check the Vaulthalla version's --output handling")
        }
        guard armored.starts(with: Data("-----BEGIN PGP MESSAGE-----".utf8)) else {
            throw OperatorError.failed("`vh \(name)` wrote \(target), which is not an armored OpenPGP message",
                                       remedy: "check that Vaulthalla's gpg encrypts (--recipient) and the daemon user has the public key")
        }
        let ids = try gpg.recipients(of: armored)
        guard ids.contains(where: { id in recipient.subkeyIDs.contains { $0.uppercased() == id.uppercased() } }) else {
            throw OperatorError.failed("`vh \(name)` encrypted its export to \(ids.joined(separator: ", ")), not to \(recipient.fingerprint)",
                                       remedy: "give the daemon user's keyring the recipient's public key, or fix exports.recipient")
        }
        if recipient.hasSecret {
            var plain = try gpg.decrypt(armored)
            defer { Sodium.wipe(&plain) }
            try check(plain)
        }
        return armored
    }

    /// One entry per vault at its current key version, each a 32-byte key.
    private func checkKeys(_ plain: Data, expected: [VaulthallaDatabase.Vault]) throws {
        let entries = try VaultKeyExport.parse(plain)
        for vault in expected {
            let matching = entries.filter { $0.vaultID == vault.id }
            guard matching.count == 1, let entry = matching.first else {
                throw OperatorError.failed("the vault key export has \(matching.count) entries for vault \(vault.name) (id \(vault.id)), not one",
                                           remedy: "run `vh vault keys export all` by hand and compare with `vh vaults`")
            }
            _ = try entry.keyBytes()
            if let current = currentVersions[vault.id], entry.keyInfo.keyVersion != current {
                throw OperatorError.failed("the vault key export of \(vault.name) is key version \(entry.keyInfo.keyVersion), the database's current version is \(current)",
                                           remedy: "a key rotation is in progress; back up again when it has finished")
            }
        }
        let known = Set(expected.map(\.id))
        if let stray = entries.first(where: { !known.contains($0.vaultID) }) {
            throw OperatorError.failed("the vault key export holds vault id \(stray.vaultID), which the database snapshot does not have",
                                       remedy: "a vault was created during the backup; back up again")
        }
    }

    private func checkSecrets(_ plain: Data) throws {
        let secrets = try SecretExport.parse(plain)
        for name in SecretExport.names {
            guard let secret = secrets.first(where: { $0.name == name }), !secret.secret.isEmpty else {
                throw OperatorError.failed("the secret export has no \(name)", remedy: "run `vh secret export all` by hand and check the daemon's log")
            }
        }
    }
}

/// A 0700 folder for files that hold (encrypted) key material, removed with everything in it.
struct PrivateFolder {
    let path: String

    init(parent: String) throws {
        path = "\(parent.hasSuffix("/") ? String(parent.dropLast()) : parent)/valkyrie-export-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        } catch {
            throw OperatorError.failed("cannot create a private folder in \(parent): \(error.localizedDescription)",
                                       remedy: "check exports.temp_dir and its free space")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
