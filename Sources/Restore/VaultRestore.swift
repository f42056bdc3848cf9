import Catalog
import Foundation
import Repository
import Sodium
import Support
import Vaulthalla

/// `valkyrie restore --vault NAME --set SET LOGICAL_PATH --to DIR`: one vault file or folder, decrypted.
///
/// Each body is read whole and checked (BLAKE2b-256 = `files.content_hash`, the GCM tag under one of the vault's
/// key versions, the plaintext size) before a byte of it is written; plaintext goes to 0600 files in a staging
/// folder in DIR, renamed to the logical name only when complete. A file that does not verify is never written: a
/// single file fails; in a folder it is named and the others come back (a partial restore).
public enum VaultRestore {
    public struct Summary: Codable, Sendable {
        public var set: String
        public var vault: String
        public var path: String
        public var target: String
        /// `file` or `directory`.
        public var kind: String
        public var files: Int
        public var bytes: Int64
        /// The key version that opened the body (a single file); nil for a body stored in plaintext or a folder.
        public var keyVersion: Int?
        /// The vault index recorded another key version (Vaulthalla 1.1.0 after a rotation).
        public var staleRecordedVersion: Bool
        /// Files of a folder that were not restored, each with why.
        public var failed: [String]
        /// Symlinks of a folder left out: the vault index records no target for them.
        public var skippedSymlinks: [String]
    }

    public static func run(_ source: SetSource, vault: String, path: String, to directory: String, keys: KeySource,
                           overwrite: Bool) async throws -> Summary {
        let path = SetSource.normalized(path)
        // The vault's root has no index entry of its own; it restores as a folder named after the vault.
        let wholeVault = try path == "/" && !source.catalog.listVaultDirectory(vault: vault, "/", in: source.set).isEmpty
        let entry = wholeVault ? nil : try source.vaultEntry(vault: vault, path).entry
        let name = entry.map { ($0.path as NSString).lastPathComponent } ?? vault
        let target = "\(directory)/\(name)"
        try Staging.checkFree(target, overwrite: overwrite)
        var bodies = VaultBodies(source, vault: vault, keys: keys)
        defer { bodies.wipe() }
        var summary = Summary(set: source.set.name, vault: vault, path: path, target: target, kind: entry?.kind.rawValue ?? "directory",
                              files: 0, bytes: 0, keyVersion: nil, staleRecordedVersion: false, failed: [], skippedSymlinks: [])
        let digest: String
        if let entry, entry.kind == .file {
            var opened: VaultKeyring.Opened
            do { opened = try await bodies.open(entry) } catch let error as OperatorError {
                throw OperatorError(error.status, error.problem + "; nothing was written", remedy: error.remedy)
            }
            defer { Sodium.wipe(&opened.plaintext) }
            let staging = try Staging(in: directory)
            defer { staging.discard() }
            try write(opened.plaintext, to: try staging.path(name), target: target)
            try staging.place(name, overwrite: overwrite)
            summary.files = 1
            summary.bytes = Int64(opened.plaintext.count)
            summary.keyVersion = opened.keyVersion
            summary.staleRecordedVersion = opened.staleRecordedVersion
            digest = entry.contentHash.map { "blake2b:" + $0 } ?? entry.version
        } else if let entry, entry.kind != .directory {
            throw OperatorError.badInput("vault \(vault) \(path) in set \(source.set.name) is a \(entry.kind.rawValue), not a file or folder",
                                         remedy: "restore the folder holding it")
        } else {
            let staging = try Staging(in: directory)
            defer { staging.discard() }
            try await restoreFolder(path, into: try staging.path(name), target: target, bodies: &bodies, summary: &summary)
            if summary.files == 0, let first = summary.failed.first {
                throw OperatorError.failed("none of the \(summary.failed.count) files of vault \(vault) \(path) in set \(source.set.name) restored (first: \(first)); nothing was written",
                                           remedy: "see `valkyrie history PATH --vault \(vault)` for other sets holding them")
            }
            try staging.place(name, overwrite: overwrite)
            digest = entry?.version ?? "folder"
        }
        try source.catalog.append(FileRestored(set: source.set.id, path: path, vault: vault, target: target, size: summary.bytes, digest: digest))
        return summary
    }

    /// Every file and folder below `path` written under `root`; files that do not open are counted in `failed`.
    private static func restoreFolder(_ path: String, into root: String, target: String, bodies: inout VaultBodies,
                                      summary: inout Summary) async throws {
        let below = path == "/" ? "/" : path + "/"
        let members = try bodies.source.catalog.vaultEntries(of: bodies.source.set).map(\.entry)
            .filter { $0.vault == bodies.vault && $0.path.hasPrefix(below) }
        if members.contains(where: { $0.kind == .file && !($0.iv ?? "").isEmpty }) { try await bodies.loadKeys() }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for member in members {
            let relative = String(member.path.dropFirst(below.count))
            let at = "\(root)/\(relative)"
            switch member.kind {
            case .directory:
                try FileManager.default.createDirectory(atPath: at, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            case .file:
                var opened: VaultKeyring.Opened
                do { opened = try await bodies.open(member) } catch let error as OperatorError {
                    summary.failed.append(error.problem)
                    continue
                }
                defer { Sodium.wipe(&opened.plaintext) }
                try FileManager.default.createDirectory(atPath: (at as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                try write(opened.plaintext, to: at, target: "\(target)/\(relative)")
                summary.files += 1
                summary.bytes += Int64(opened.plaintext.count)
            case .symlink, .other:
                summary.skippedSymlinks.append(member.path)
            }
        }
    }

    /// A new 0600 file holding `plaintext`, synced; `target` is where it will appear, for the message.
    private static func write(_ plaintext: Data, to path: String, target: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw OperatorError.badInput("target \(target) cannot be written", remedy: "choose a folder you can write to with --to")
        }
        do {
            try handle.write(contentsOf: plaintext)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw OperatorError.failed("writing \(target) failed (\(error)); nothing was left behind", remedy: "check the destination's free space")
        }
    }
}
