import Capture
import Catalog
import Foundation
import GPG
import Sodium
import Support
import Vaulthalla

/// Where vault keys come from: a set's own key export opened with the operator's GPG key, or an export file
/// the operator gives (plaintext `vh vault keys export` JSON, or OpenPGP-encrypted to a key they hold).
public enum KeySource: Sendable {
    case setExport(gnupgHome: String?)
    case file(String, gnupgHome: String?)

    var gnupgHome: String? {
        switch self {
        case let .setExport(home), let .file(_, home): home
        }
    }
}

/// Opening key exports in memory; plaintext key bytes never reach disk, a log or an error message.
enum VaultKeys {
    static let setExportPath = "/\(SetLayout.exports)/vault-keys.json.asc"

    /// Every entry of the export `source` names, for `set`.
    static func entries(_ keys: KeySource, set: SetSource) async throws -> (entries: [VaultKeyExport], origin: String) {
        switch keys {
        case let .setExport(home):
            let origin = "\(setExportPath) of set \(set.set.name)"
            let sealed = try await set.contents(of: setExportPath)
            return (try parse(decrypt(sealed, origin: origin, home: home), origin: origin), origin)
        case let .file(path, home):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw OperatorError.badInput("key file \(path) cannot be read", remedy: "check the path and its permissions")
            }
            let trimmed = data.first { !Character(UnicodeScalar($0)).isWhitespace }
            let plain = trimmed == UInt8(ascii: "{") || trimmed == UInt8(ascii: "[") ? data : try decrypt(data, origin: path, home: home)
            return (try parse(plain, origin: path), path)
        }
    }

    /// One vault's keyring: every key version the export holds for it.
    static func keyring(vault: String, entries: [VaultKeyExport], origin: String) throws -> VaultKeyring {
        let mine = entries.filter { $0.vaultName == vault }
        guard let first = mine.first else {
            throw OperatorError.badInput("the key export \(origin) holds no key for vault \(vault) (it holds: \(Set(entries.map(\.vaultName)).sorted().joined(separator: ", ")))",
                                         remedy: "use a key export taken while vault \(vault) existed (--keys FILE, or another set)")
        }
        var ring = VaultKeyring(vaultID: first.vaultID, keys: [:], currentVersion: 0)
        for entry in mine {
            ring.keys[entry.keyInfo.keyVersion] = try entry.keyBytes()
            ring.currentVersion = max(ring.currentVersion, entry.keyInfo.keyVersion)
        }
        return ring
    }

    /// Adds older key versions of `vault` from the earlier sets of the same host (each export holds only the key
    /// version current when it was taken), newest first, until `version` is found (every one when nil). Only for
    /// the set's own exports.
    static func addOlderVersions(_ ring: inout VaultKeyring, vault: String, version: Int?, _ keys: KeySource, set: SetSource) async throws {
        guard case .setExport = keys, version.map({ ring.keys[$0] == nil }) ?? true else { return }
        let earlier = try set.catalog.sets(host: set.set.host).filter { $0.ordinal < set.set.ordinal }.sorted { $0.ordinal > $1.ordinal }
        for other in earlier {
            let older = SetSource(catalog: set.catalog, repository: set.repository, record: other)
            guard let found = try? await Self.entries(keys, set: older) else { continue }
            for entry in found.entries where entry.vaultName == vault && ring.keys[entry.keyInfo.keyVersion] == nil {
                ring.keys[entry.keyInfo.keyVersion] = try entry.keyBytes()
            }
            if let version, ring.keys[version] != nil { return }
        }
    }

    static func decrypt(_ sealed: Data, origin: String, home: String?) throws -> Data {
        let gpg = try GPGContext(homeDirectory: home)
        do {
            return try gpg.decrypt(sealed)
        } catch {
            let recipients = (try? gpg.recipients(of: sealed)) ?? []
            throw OperatorError.badInput(
                "no secret key in the GPG keyring\(home.map { " \($0)" } ?? "") opens \(origin)" +
                    (recipients.isEmpty ? "" : " (encrypted to \(recipients.joined(separator: ", ")))"),
                remedy: "import the secret key of that recipient (or set GNUPGHOME), or pass a plaintext export with --keys FILE")
        }
    }

    /// Parses a plaintext export and wipes it.
    private static func parse(_ plain: Data, origin: String) throws -> [VaultKeyExport] {
        var plain = plain
        defer { Sodium.wipe(&plain) }
        do { return try VaultKeyExport.parse(plain) } catch let error as OperatorError {
            throw OperatorError.badInput("\(origin): \(error.problem)", remedy: error.remedy)
        }
    }
}
