import Foundation
import GRDB
import Support
@testable import Catalog

/// Temporary folders, catalogs and a recorded history shared by the catalog tests.
enum Fixture {
    static let origin = EventOrigin(host: "vh1", uid: 0, user: "root")
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    /// Runs `body` with a fresh folder that is removed afterwards, also when `body` throws.
    static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer {
            _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            try? FileManager.default.removeItem(atPath: path)
        }
        return try body(path)
    }

    static func catalog(_ directory: String, name: String = "catalog.db") throws -> Catalog {
        try Catalog.open(at: directory + "/" + name, mode: .create, origin: origin)
    }

    /// A plain connection without Valkyrie's hardening: what someone with `sqlite3` could do to the file.
    static func raw(_ path: String) throws -> DatabaseQueue {
        try DatabaseQueue(path: path)
    }

    static func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    /// Every row of `table`, in a stable order, for comparing projections.
    static func rows(_ catalog: Catalog, _ table: String) throws -> [String] {
        try catalog.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map(\.description).sorted() }
    }

    /// A completed set of `host` started `minutes` after `start`.
    @discardableResult
    static func completedSet(_ catalog: Catalog, host: String = "vh1", minutes: Double, items: [String] = ["etc"],
                             warnings: [String] = []) throws -> SetRecord {
        let set = try catalog.startSet(host: host, startedAt: start.addingTimeInterval(minutes * 60),
                                       valkyrieVersion: "0.1.0", items: items)
        var drafts = try items.map {
            try EventDraft(ItemCaptured(set: set.id, item: $0, root: "tree-\($0)-\(set.ordinal)", digest: "d-\($0)",
                                        size: 1000, files: 3))
        }
        drafts.append(try EventDraft(BackupCompleted(set: set.id, warnings: warnings)))
        try catalog.append(drafts)
        return try catalog.requireSet(set.name)
    }

    /// A history touching every projection: two hosts; complete, partial, failed, running and forgotten sets;
    /// exports, a drill with checks, restores, a key extraction, and an event of a type this build does not know.
    @discardableResult
    static func history(_ catalog: Catalog) throws -> [SetRecord] {
        try catalog.append(RepositoryInitialized(location: "/srv/repo", repositoryID: "r1", keySlots: ["gpg", "tpm"]))
        let first = try completedSet(catalog, minutes: 0, items: ["postgres", "etc", "var-lib"])
        try catalog.append(ExportRecorded(set: first.id, export: "vault-keys", recipients: ["FPR1"], vaults: ["v1", "v2"],
                                          digest: "e1", size: 2048))
        let drill = UUID()
        try catalog.append([
            try EventDraft(DrillStarted(drill: drill, set: first.id)),
            try EventDraft(DrillCheck(drill: drill, set: first.id, name: "database", passed: true, evidence: "42 tables")),
            try EventDraft(DrillCheck(drill: drill, set: first.id, name: "swtpm", passed: false, evidence: "unseal failed")),
            try EventDraft(DrillCompleted(drill: drill, set: first.id, passed: false, report: "drills/x.md")),
        ])
        try catalog.append(FileRestored(set: first.id, item: "etc", path: "/etc/vaulthalla/config.yaml", target: "/tmp/r",
                                        size: 10, digest: "f1"))
        try catalog.append(KeyExtracted(set: first.id, vault: "v1", keyVersion: 2, recipients: ["FPR2"]))
        let partial = try completedSet(catalog, minutes: 60, items: ["etc"], warnings: ["vault body changed during capture"])
        let failed = try catalog.startSet(host: "vh1", startedAt: start.addingTimeInterval(7200), valkyrieVersion: "0.1.0", items: ["etc"])
        try catalog.append(BackupFailed(set: failed.id, error: "pg_dump failed", item: "postgres"))
        let running = try catalog.startSet(host: "vh1", startedAt: start.addingTimeInterval(9000), valkyrieVersion: "0.1.0", items: ["etc"])
        let other = try completedSet(catalog, host: "vh2", minutes: 30)
        let forgotten = try completedSet(catalog, host: "vh2", minutes: 90)
        try catalog.append(SetForgotten(set: forgotten.id, reason: "keep-last 1"))
        try catalog.append([try EventDraft(type: "future.audit", version: 3, payload: Data(#"{"note":"from a newer valkyrie"}"#.utf8),
                                           set: first.id, occurredAt: start.addingTimeInterval(10000))])
        try catalog.append(PruneCompleted(removedPacks: 2, removedBytes: 1 << 24, keptPacks: 10))
        try catalog.append(VerifyCompleted(checkedPacks: 10, problems: []))
        let head = try catalog.head()
        try catalog.append(ChainAnchored(seq: head.seq, hash: head.hash, location: "/srv/repo/chain/head"))
        return try [first, partial, failed, running, other, forgotten].map { try catalog.requireSet($0.id.uuidString) }
    }
}

/// Set contents held in memory, keyed by set name: what the repository provides in production.
struct MemoryContents: SetContents {
    var files: [String: [String: [FileEntry]]] = [:]
    var vault: [String: [VaultEntry]] = [:]

    func files(of set: SetRecord, item: ItemRecord, _ visit: (FileEntry) throws -> Void) throws {
        for entry in files[set.name]?[item.item] ?? [] { try visit(entry) }
    }

    func vaultFiles(of set: SetRecord, _ visit: (VaultEntry) throws -> Void) throws {
        for entry in vault[set.name] ?? [] { try visit(entry) }
    }

    static func file(_ path: String, _ version: String, kind: EntryKind = .file) -> FileEntry {
        FileEntry(path: path, kind: kind, size: Int64(version.count), mode: kind == .directory ? 0o40755 : 0o100644,
                  uid: 0, gid: 0, mtimeNanoseconds: 1_795_000_000_000_000_000, version: version, node: "node-\(version)")
    }

    static func vaultFile(_ vault: String, _ path: String, _ version: String) -> VaultEntry {
        VaultEntry(vault: vault, path: path, kind: .file, backingPath: "/var/lib/vaulthalla/\(vault)/\(version)",
                   size: 100, iv: "AAAAAAAAAAAAAAAA", keyVersion: 1, contentHash: "h-\(version)", format: 1,
                   version: version, node: "vnode-\(version)")
    }
}
