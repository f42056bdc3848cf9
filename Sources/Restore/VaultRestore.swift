import Catalog
import Foundation
import Repository
import Sodium
import Support
import Vaulthalla

/// `valkyrie restore --vault NAME --set SET LOGICAL_PATH --to DIR`: one vault file, decrypted.
///
/// The body is read whole and checked (BLAKE2b-256 = `files.content_hash`, the GCM tag under one of the vault's
/// key versions, the plaintext size) before a byte is written; the plaintext goes to a 0600 temp file in DIR,
/// renamed to its logical name only when complete.
public enum VaultRestore {
    public struct Summary: Codable, Sendable {
        public var set: String
        public var vault: String
        public var path: String
        public var target: String
        public var bytes: Int64
        /// The key version that opened the body; nil for a body stored in plaintext.
        public var keyVersion: Int?
        /// The vault index recorded another key version (Vaulthalla 1.1.0 after a rotation).
        public var staleRecordedVersion: Bool
    }

    public static func run(_ source: SetSource, vault: String, path: String, to directory: String, keys: KeySource,
                           overwrite: Bool) async throws -> Summary {
        let indexed = try source.vaultEntry(vault: vault, path)
        let entry = indexed.entry
        guard entry.kind == .file else {
            throw OperatorError.badInput("vault \(vault) \(entry.path) in set \(source.set.name) is a folder",
                                         remedy: "restore its files one by one; `valkyrie find '\(entry.path)/*' --vault \(vault)` lists them")
        }
        let name = (entry.path as NSString).lastPathComponent
        let target = "\(directory)/\(name)"
        try Staging.checkFree(target, overwrite: overwrite)
        let node = try await source.body(entry)
        let body = try await source.repository.read(node, offset: 0, length: Int(node.size))

        var ring = VaultKeyring(vaultID: 0, keys: [:], currentVersion: 0)
        if !(entry.iv ?? "").isEmpty {
            ring = try await VaultKeys.keyring(vault: vault, keys, set: source)
            if let recorded = entry.keyVersion {
                try await VaultKeys.addOlderVersions(&ring, vault: vault, version: recorded, keys, set: source)
            }
        }
        defer { for version in Array(ring.keys.keys) { Sodium.wipe(&ring.keys[version]!) } }
        let file = VaulthallaDatabase.FileEntry(fsEntryID: 0, vaultID: ring.vaultID, logicalPath: entry.path,
                                                backingPath: entry.backingPath ?? "", sizeBytes: entry.size,
                                                contentHash: entry.contentHash, encryptionIV: entry.iv, keyVersion: entry.keyVersion)
        var opened: VaultKeyring.Opened
        do {
            do { opened = try ring.open(file, body: body) } catch {
                // A stale recorded version can name a key this set's export holds while the body is on an older one.
                let known = ring.keys.count
                if !(entry.iv ?? "").isEmpty { try await VaultKeys.addOlderVersions(&ring, vault: vault, version: nil, keys, set: source) }
                guard ring.keys.count > known else { throw error }
                opened = try ring.open(file, body: body)
            }
        } catch let error as OperatorError {
            throw OperatorError.failed("vault \(vault) \(entry.path) in set \(source.set.name): \(Self.stripPlace(error.problem, file)); nothing was written",
                                       remedy: error.remedy ?? "restore it from another set")
        }
        defer { Sodium.wipe(&opened.plaintext) }

        let staging = try Staging(in: directory)
        defer { staging.discard() }
        let temp = try staging.path(name)
        guard FileManager.default.createFile(atPath: temp, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: temp) else {
            throw OperatorError.badInput("target \(directory) is not writable", remedy: "choose a folder you can write to with --to")
        }
        do {
            try handle.write(contentsOf: opened.plaintext)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw OperatorError.failed("writing \(target) failed (\(error)); nothing was left behind", remedy: "check the destination's free space")
        }
        try staging.place(name, overwrite: overwrite)
        try source.catalog.append(FileRestored(set: source.set.id, path: entry.path, vault: vault, target: target,
                                               size: Int64(opened.plaintext.count), digest: "blake2b:" + (entry.contentHash ?? ContentHash.hex(of: body))))
        return Summary(set: source.set.name, vault: vault, path: entry.path, target: target, bytes: Int64(opened.plaintext.count),
                       keyVersion: opened.keyVersion, staleRecordedVersion: opened.staleRecordedVersion)
    }

    /// VaultKeyring names the vault by id and path; the caller names it by name, so drop the repeat.
    private static func stripPlace(_ problem: String, _ file: VaulthallaDatabase.FileEntry) -> String {
        let place = "vault \(file.vaultID) \(file.logicalPath): "
        return problem.hasPrefix(place) ? String(problem.dropFirst(place.count)) : problem
    }
}
