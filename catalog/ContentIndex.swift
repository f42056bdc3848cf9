import Foundation
import GRDB
import Support

/// One of the two content indexes: its table, the staging table entries are streamed into, and its columns
/// (all but `host` and the ordinal range). The SQL below is built from these constants only.
struct ContentTable: Sendable {
    let table: String
    let staging: String
    let group: String
    let columns: [String]

    static let files = ContentTable(table: "file_index", staging: "staged_files", group: "item", columns: [
        "item", "path", "parent", "version", "kind", "size", "mode", "uid", "gid", "mtime_ns", "node"])
    static let vaults = ContentTable(table: "vault_index", staging: "staged_vault", group: "vault", columns: [
        "vault", "path", "parent", "version", "kind", "backing_path", "size", "iv", "key_version", "content_hash",
        "format", "node"])

    var createStaging: String {
        "CREATE TEMP TABLE IF NOT EXISTS \(staging) (\(columns.joined(separator: ", ")), PRIMARY KEY (\(group), path, version))"
    }
    var insertStaged: String {
        "INSERT OR REPLACE INTO temp.\(staging) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }
    /// Versions the set shares with the previous indexed set of its host extend that row's range.
    var extend: String {
        """
        UPDATE \(table) SET last_ordinal = :ordinal FROM temp.\(staging) AS s
        WHERE \(table).host = :host AND \(table).\(group) = s.\(group) AND \(table).path = s.path
          AND \(table).version = s.version AND \(table).last_ordinal = :previous
        """
    }
    /// The rest start a row of their own, with the path's last part as its `name` (as migration 0005 fills it).
    var insertNew: String {
        """
        INSERT INTO \(table) (host, \(columns.joined(separator: ", ")), name, first_ordinal, last_ordinal)
        SELECT :host, \(columns.map { "s.\($0)" }.joined(separator: ", ")),
               substr(s.path, length(s.parent) + CASE WHEN s.parent = '/' THEN 1 ELSE 2 END), :ordinal, :ordinal
        FROM temp.\(staging) AS s
        WHERE NOT EXISTS (SELECT 1 FROM \(table) AS f WHERE f.host = :host AND f.\(group) = s.\(group)
                          AND f.path = s.path AND f.version = s.version AND f.last_ordinal = :ordinal)
        """
    }
    /// Rows first seen in a forgotten set that reach `:next` take their node from `:next`'s entries instead.
    var repoint: String {
        """
        UPDATE \(table) SET node = s.node, first_ordinal = :next FROM temp.\(staging) AS s
        WHERE \(table).host = :host AND \(table).\(group) = s.\(group) AND \(table).path = s.path
          AND \(table).version = s.version AND \(table).first_ordinal = :forgotten AND \(table).last_ordinal >= :next
        """
    }
}

/// The directory holding `path` ("/" for top-level entries, "" for "/" itself).
func parentPath(_ path: String) -> String {
    guard path != "/" else { return "" }
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

extension Catalog {
    /// Adds a complete (or partial) set's contents to the file and vault index. The backup calls this after
    /// `backup.completed`; calling it again for the same set does nothing. Entries are streamed into
    /// temporary tables first, so the write lock is held only for the merge. A set indexed after a later set
    /// of the same host re-derives that host's rows, keeping them equal to what `rebuild` produces.
    public func index(_ set: SetRecord, from contents: any SetContents) throws {
        let set = try requireSet(set.id.uuidString)  // as it is now, not as the caller last saw it
        guard set.isListed else {
            throw OperatorError.failed("set \(set.name) is \(set.forgottenAt == nil ? set.status.rawValue : "forgotten"), so it is not indexed",
                                       remedy: "index only complete or partial sets")
        }
        let state = try read { db in
            (try Bool.fetchOne(db, sql: "SELECT 1 FROM indexed_sets WHERE set_id = ?", arguments: [set.id.uuidString]) ?? false,
             try Int.fetchOne(db, sql: "SELECT max(ordinal) FROM indexed_sets WHERE host = ?", arguments: [set.host]))
        }
        if state.0 { return }
        if let latest = state.1, latest > set.ordinal {
            try reindex(host: set.host, adding: set, from: contents)
        } else {
            try add(set, from: contents)
        }
    }

    /// Empties both indexes and fills them again from every listed set, in ordinal order per host.
    func reindexAll(from contents: any SetContents) throws {
        try write { db in try db.execute(sql: "DELETE FROM file_index; DELETE FROM vault_index; DELETE FROM indexed_sets") }
        for set in try sets().sorted(by: { ($0.host, $0.ordinal) < ($1.host, $1.ordinal) }) {
            try add(set, from: contents)
        }
    }

    private func reindex(host: String, adding set: SetRecord, from contents: any SetContents) throws {
        let indexed = try read { db in
            try String.fetchAll(db, sql: "SELECT set_id FROM indexed_sets WHERE host = ?", arguments: [host])
        }
        try write { db in
            for table in ["file_index", "vault_index", "indexed_sets"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE host = ?", arguments: [host])
            }
        }
        let all = try sets(host: host).filter { indexed.contains($0.id.uuidString) || $0.id == set.id }
        for each in all.sorted(by: { $0.ordinal < $1.ordinal }) { try add(each, from: contents) }
    }

    /// Stages the set's entries, then merges them in one write transaction.
    private func add(_ set: SetRecord, from contents: any SetContents) throws {
        let items = try details(of: set).items
        try writeWithoutTransaction { db in
            try stage(set, items: items, from: contents, db)
            try db.inTransaction(.immediate) {
                // Another process may have indexed this set, or a later one, since we looked.
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM indexed_sets WHERE set_id = ?", arguments: [set.id.uuidString]) == true {
                    return .rollback
                }
                let previous = try Int.fetchOne(db, sql: "SELECT max(ordinal) FROM indexed_sets WHERE host = ?",
                                                arguments: [set.host])
                if let previous, previous > set.ordinal {
                    throw OperatorError.failed("a later set of \(set.host) was indexed while \(set.name) was being read",
                                               remedy: "index \(set.name) again")
                }
                let arguments: StatementArguments = ["host": set.host, "ordinal": set.ordinal, "previous": previous]
                for table in [ContentTable.files, .vaults] {
                    try db.execute(sql: table.extend, arguments: arguments)
                    try db.execute(sql: table.insertNew, arguments: arguments)
                }
                try db.execute(sql: "INSERT INTO indexed_sets (set_id, host, ordinal) VALUES (?, ?, ?)",
                               arguments: [set.id.uuidString, set.host, set.ordinal])
                return .commit
            }
            for table in [ContentTable.files, .vaults] { try db.execute(sql: "DELETE FROM temp.\(table.staging)") }
        }
    }

    /// Streams the set's entries into the (emptied) temporary staging tables, in a transaction of their own.
    func stage(_ set: SetRecord, items: [ItemRecord], from contents: any SetContents, _ db: Database) throws {
        for table in [ContentTable.files, .vaults] {
            try db.execute(sql: table.createStaging)
            try db.execute(sql: "DELETE FROM temp.\(table.staging)")
        }
        try db.inTransaction(.deferred) {
            let file = try db.cachedStatement(sql: ContentTable.files.insertStaged)
            for item in items {
                try contents.files(of: set, item: item) { entry in
                    try Self.checkPath(entry.path, set: set)
                    try file.execute(arguments: [
                        item.item, entry.path, parentPath(entry.path), entry.version, entry.kind.rawValue, entry.size,
                        Int64(entry.mode), Int64(entry.uid), Int64(entry.gid), entry.mtimeNanoseconds, entry.node])
                }
            }
            let vault = try db.cachedStatement(sql: ContentTable.vaults.insertStaged)
            try contents.vaultFiles(of: set) { entry in
                try Self.checkPath(entry.path, set: set)
                try vault.execute(arguments: [
                    entry.vault, entry.path, parentPath(entry.path), entry.version, entry.kind.rawValue,
                    entry.backingPath, entry.size, entry.iv, entry.keyVersion, entry.contentHash, entry.format, entry.node])
            }
            return .commit
        }
    }

    private static func checkPath(_ path: String, set: SetRecord) throws {
        guard path.hasPrefix("/"), path == "/" || !path.hasSuffix("/") else {
            throw OperatorError.failed("set \(set.name) lists the path \"\(path)\", which is not absolute and normalized",
                                       remedy: "check the repository with `valkyrie verify`")
        }
    }
}
