import Foundation
import GRDB

/// A version of a path in the file index and the range of per-host set ordinals in which it holds.
public struct IndexedFile: Codable, Sendable, Equatable {
    public var host: String
    public var item: String
    public var entry: FileEntry
    public var firstOrdinal: Int
    public var lastOrdinal: Int
}

/// A version of a vault file in the vault index.
public struct IndexedVaultFile: Codable, Sendable, Equatable {
    public var host: String
    public var entry: VaultEntry
    public var firstOrdinal: Int
    public var lastOrdinal: Int
}

/// A listed set holding a path, and the version it holds.
public struct FileHolding: Codable, Sendable, Equatable {
    public var set: SetRecord
    public var file: IndexedFile
}

public struct VaultFileHolding: Codable, Sendable, Equatable {
    public var set: SetRecord
    public var file: IndexedVaultFile
}

/// The index queries, each one SQL statement pinned to its index (`INDEXED BY`: without statistics the planner
/// may prefer a covering primary key that narrows less); the tests check their query plans.
enum ContentSQL {
    static let listed = "s.status IN ('complete', 'partial') AND s.forgotten_at IS NULL"
    static let setsHoldingFile = """
        SELECT \(SetRecord.columns(of: "s")), f.* FROM file_index AS f INDEXED BY file_index_by_path
        JOIN sets AS s ON s.host = f.host AND s.ordinal BETWEEN f.first_ordinal AND f.last_ordinal
        WHERE f.path = ? AND \(listed) ORDER BY s.started_at, s.name
        """
    static let listDirectory = """
        SELECT * FROM file_index INDEXED BY file_index_by_parent WHERE host = ? AND parent = ? AND first_ordinal <= ? AND last_ordinal >= ? ORDER BY path
        """
    static let fileInSet = """
        SELECT * FROM file_index INDEXED BY file_index_by_path WHERE path = ? AND host = ? AND first_ordinal <= ? AND last_ordinal >= ?
        """
    static let fileHistory = "SELECT * FROM file_index INDEXED BY file_index_by_path WHERE path = ? ORDER BY host, first_ordinal"
    static let setsHoldingVaultFile = """
        SELECT \(SetRecord.columns(of: "s")), v.* FROM vault_index AS v INDEXED BY vault_index_by_path
        JOIN sets AS s ON s.host = v.host AND s.ordinal BETWEEN v.first_ordinal AND v.last_ordinal
        WHERE v.vault = ? AND v.path = ? AND \(listed) ORDER BY s.started_at, s.name
        """
    static let listVaultDirectory = """
        SELECT * FROM vault_index INDEXED BY vault_index_by_parent WHERE host = ? AND vault = ? AND parent = ? AND first_ordinal <= ? AND last_ordinal >= ?
        ORDER BY path
        """
    static let vaultHistory = "SELECT * FROM vault_index INDEXED BY vault_index_by_path WHERE vault = ? AND path = ? ORDER BY host, first_ordinal"
}

extension Catalog {
    /// Which listed sets hold `path`, oldest first, with the version each holds.
    public func setsHolding(path: String) throws -> [FileHolding] {
        try read { db in
            try Row.fetchAll(db, sql: ContentSQL.setsHoldingFile, arguments: [path], adapter: setAndRest).map {
                FileHolding(set: SetRecord(row: $0.scopes["set"]!), file: IndexedFile(row: $0.scopes["rest"]!))
            }
        }
    }

    /// The entries directly inside directory `path` in `set`.
    public func listDirectory(_ path: String, in set: SetRecord) throws -> [IndexedFile] {
        try read { db in
            try Row.fetchAll(db, sql: ContentSQL.listDirectory, arguments: [set.host, path, set.ordinal, set.ordinal])
                .map(IndexedFile.init(row:))
        }
    }

    /// The entry at `path` in `set`, if it holds one.
    public func file(_ path: String, in set: SetRecord) throws -> IndexedFile? {
        try read { db in
            try Row.fetchOne(db, sql: ContentSQL.fileInSet, arguments: [path, set.host, set.ordinal, set.ordinal])
                .map(IndexedFile.init(row:))
        }
    }

    /// Every version of `path`, per host in ordinal order.
    public func history(of path: String) throws -> [IndexedFile] {
        try read { db in try Row.fetchAll(db, sql: ContentSQL.fileHistory, arguments: [path]).map(IndexedFile.init(row:)) }
    }

    /// Which listed sets hold the vault file, oldest first.
    public func setsHolding(vault: String, path: String) throws -> [VaultFileHolding] {
        try read { db in
            try Row.fetchAll(db, sql: ContentSQL.setsHoldingVaultFile, arguments: [vault, path], adapter: setAndRest).map {
                VaultFileHolding(set: SetRecord(row: $0.scopes["set"]!), file: IndexedVaultFile(row: $0.scopes["rest"]!))
            }
        }
    }

    /// The entries directly inside the vault directory `path` in `set`.
    public func listVaultDirectory(vault: String, _ path: String, in set: SetRecord) throws -> [IndexedVaultFile] {
        try read { db in
            try Row.fetchAll(db, sql: ContentSQL.listVaultDirectory, arguments: [set.host, vault, path, set.ordinal, set.ordinal])
                .map(IndexedVaultFile.init(row:))
        }
    }

    /// Every version of a vault file.
    public func vaultHistory(vault: String, path: String) throws -> [IndexedVaultFile] {
        try read { db in
            try Row.fetchAll(db, sql: ContentSQL.vaultHistory, arguments: [vault, path]).map(IndexedVaultFile.init(row:))
        }
    }
}

/// Splits a joined row into the set's columns and the index row's (both sides have `size`, `kind`, ...).
let setAndRest = ScopeAdapter([
    "set": RangeRowAdapter(0..<SetRecord.columnNames.count), "rest": SuffixRowAdapter(fromIndex: SetRecord.columnNames.count),
])

extension IndexedFile {
    init(row: Row) {
        let entry = FileEntry(
            path: row["path"], kind: EntryKind(rawValue: row["kind"]) ?? .other, size: row["size"],
            mode: UInt32(truncatingIfNeeded: row["mode"] as Int64), uid: UInt32(truncatingIfNeeded: row["uid"] as Int64),
            gid: UInt32(truncatingIfNeeded: row["gid"] as Int64), mtimeNanoseconds: row["mtime_ns"],
            version: row["version"], node: row["node"])
        self.init(host: row["host"], item: row["item"], entry: entry, firstOrdinal: row["first_ordinal"],
                  lastOrdinal: row["last_ordinal"])
    }
}

extension IndexedVaultFile {
    init(row: Row) {
        let entry = VaultEntry(
            vault: row["vault"], path: row["path"], kind: EntryKind(rawValue: row["kind"]) ?? .other,
            backingPath: row["backing_path"], size: row["size"], iv: row["iv"], keyVersion: row["key_version"],
            contentHash: row["content_hash"], format: row["format"], version: row["version"], node: row["node"])
        self.init(host: row["host"], entry: entry, firstOrdinal: row["first_ordinal"], lastOrdinal: row["last_ordinal"])
    }
}
