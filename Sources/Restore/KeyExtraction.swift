import Catalog
import Foundation
import GPG
import Sodium
import Support
import Vaulthalla

/// `valkyrie keys extract`: one vault's entry of a set's key export, re-encrypted to a recipient, or written
/// in plaintext (0600) only when the operator asks for it.
public enum KeyExtraction {
    public enum Destination: Sendable {
        /// Armored OpenPGP to this key; written to the file, or returned for stdout.
        case recipient(String, file: String?)
        case plaintext(file: String)
    }

    public struct Summary: Codable, Sendable {
        public var set: String
        public var vault: String
        public var keyVersion: Int
        public var recipient: String?
        public var file: String?
        public var plaintext: Bool
    }

    /// Returns the summary and, for a recipient without a file, the armored message for stdout.
    public static func run(_ source: SetSource, vault: String, keys: KeySource, to destination: Destination) async throws -> (Summary, Data?) {
        let (entries, origin) = try await VaultKeys.entries(keys, set: source)
        var ring = try VaultKeys.keyring(vault: vault, entries: entries, origin: origin)  // checks presence and key sizes
        for version in Array(ring.keys.keys) { Sodium.wipe(&ring.keys[version]!) }
        let current = entries.filter { $0.vaultName == vault }.max { $0.keyInfo.keyVersion < $1.keyInfo.keyVersion }!
        var plain = try VaultKeyExport.render([current], single: true, pretty: false)
        defer { Sodium.wipe(&plain) }

        var summary = Summary(set: source.set.name, vault: vault, keyVersion: current.keyInfo.keyVersion, recipient: nil,
                              file: nil, plaintext: false)
        var stdout: Data?
        let recorded: [String]
        switch destination {
        case let .recipient(fingerprint, file):
            let gpg = try GPGContext(homeDirectory: keys.gnupgHome)
            guard let key = try gpg.key(fingerprint), key.canEncrypt else {
                throw OperatorError.badInput("no usable encryption key \(fingerprint) in the GPG keyring",
                                             remedy: "import the recipient's public key (`gpg --import`) and give its fingerprint")
            }
            let sealed = try gpg.encrypt(plain, to: [key.fingerprint])
            if let file { try write(sealed, to: file, mode: 0o644) } else { stdout = sealed }
            summary.recipient = key.fingerprint
            summary.file = file
            recorded = [key.fingerprint]
        case let .plaintext(file):
            try write(plain, to: file, mode: 0o600)
            summary.file = file
            summary.plaintext = true
            recorded = ["plaintext:\(file)"]
        }
        try source.catalog.append(KeyExtracted(set: source.set.id, vault: vault, keyVersion: current.keyInfo.keyVersion, recipients: recorded))
        return (summary, stdout)
    }

    /// A new file only (never over an existing one), written in a temp file beside it and renamed when complete.
    private static func write(_ data: Data, to file: String, mode: Int) throws {
        try Staging.checkFree(file, overwrite: false)
        let directory = (file as NSString).deletingLastPathComponent
        let staging = try Staging(in: directory.isEmpty ? "." : directory)
        defer { staging.discard() }
        let name = (file as NSString).lastPathComponent
        let temp = try staging.path(name)
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: mode]) else {
            throw OperatorError.badInput("cannot write \(file)", remedy: "choose a folder you can write to")
        }
        try staging.place(name, overwrite: false)
    }
}
