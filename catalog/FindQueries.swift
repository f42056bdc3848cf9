import Foundation
import GRDB

/// One version of a path that `find` matched, with every listed set holding it.
public struct FoundFile: Codable, Sendable, Equatable {
    public var file: IndexedFile
    public var sets: [SetRecord]
}

public struct FoundVaultFile: Codable, Sendable, Equatable {
    public var file: IndexedVaultFile
    public var sets: [SetRecord]
}

/// Which sets `find` looks in: all listed ones, one set, or those started at or after a time.
public struct FindScope: Sendable, Equatable {
    public var set: SetRecord?
    public var since: Date?
    public init(set: SetRecord? = nil, since: Date? = nil) { self.set = set; self.since = since }

    /// The extra conditions on the joined set `s`, and their arguments (values only, never spliced in).
    var sql: (String, StatementArguments) {
        var text = "", arguments: StatementArguments = []
        if let set { text += " AND s.id = ?"; arguments += [set.id.storedText] }
        if let since { text += " AND s.started_at >= ?"; arguments += [CatalogTime.string(since)] }
        return (text, arguments)
    }
}

/// What of a GLOB pattern an index can narrow. SQLite's `*` and `?` match `/` too, so only a last part without
/// any wildcard (`*/config.yaml`, `/etc/**/config.yaml`) says which name every match has: the path must end in
/// `/` and exactly that text. The pattern itself stays the final filter, so the narrowing never changes a result.
enum GlobPattern {
    /// The name (last part) every path matching `pattern` has, when the pattern fixes it and has a wildcard
    /// elsewhere (a pattern without one is an exact path, which the path index answers directly).
    static func fixedName(_ pattern: String) -> String? {
        let wildcards: Set<Character> = ["*", "?", "["]
        guard pattern.contains(where: wildcards.contains), let slash = pattern.lastIndex(of: "/") else { return nil }
        let name = pattern[pattern.index(after: slash)...]
        guard !name.contains(where: { wildcards.contains($0) || $0 == "]" }) else { return nil }
        return String(name)
    }
}

/// `find`'s two statements; `extra` is FindScope's conditions. A pattern with a fixed last part (a bare name,
/// `*/config.yaml`) looks the name up in the name index (`byName`, the name its first argument); one with a literal
/// prefix (`/etc/vault*`) is a range search of the path index (SQLite's GLOB optimisation); the rest (`*conf*`) read
/// the whole index once. The tests check the plans.
enum FindSQL {
    static func files(_ extra: String, byName: Bool = false) -> String {
        """
        SELECT \(SetRecord.columns(of: "s")), f.* FROM file_index AS f\(byName ? " INDEXED BY file_index_by_name" : "")
        JOIN sets AS s ON s.host = f.host AND s.ordinal BETWEEN f.first_ordinal AND f.last_ordinal
        WHERE \(byName ? "f.name = ? AND " : "")f.path GLOB ? AND \(ContentSQL.listed)\(extra)
        ORDER BY f.path, f.host, f.first_ordinal, s.started_at, s.name
        """
    }

    /// Vault files; with `oneVault` the caller adds `AND v.vault = ?` to `extra`. Across all vaults and without a fixed
    /// name, the vault names come from a walk of the path index's first column (one seek per vault), so a literal
    /// prefix still narrows each vault's paths through the index rather than reading all of them.
    static func vaultFiles(_ extra: String, oneVault: Bool, byName: Bool = false) -> String {
        let walk = !oneVault && !byName
        let vaults = walk ? """
            WITH RECURSIVE vaults(walked) AS (
              SELECT (SELECT min(vault) FROM vault_index)
              UNION ALL SELECT (SELECT min(vault) FROM vault_index WHERE vault > walked) FROM vaults WHERE walked IS NOT NULL)

            """ : ""
        return """
        \(vaults)SELECT \(SetRecord.columns(of: "s")), v.* FROM vault_index AS v\(byName ? " INDEXED BY vault_index_by_name" : "")
        JOIN sets AS s ON s.host = v.host AND s.ordinal BETWEEN v.first_ordinal AND v.last_ordinal
        WHERE \(byName ? "v.name = ? AND " : "")\(walk ? "v.vault IN (SELECT walked FROM vaults) AND " : "")v.path GLOB ? AND \(ContentSQL.listed)\(extra)
        ORDER BY v.vault, v.path, v.host, v.first_ordinal, s.started_at, s.name
        """
    }

    /// The statement's leading arguments for `pattern`: the fixed name when there is one, then the pattern.
    static func leading(_ pattern: String) -> (byName: Bool, arguments: StatementArguments) {
        guard let name = GlobPattern.fixedName(pattern) else { return (false, [pattern]) }
        return (true, [name, pattern])
    }
}

extension Catalog {
    /// Every version of every raw path matching the SQLite GLOB `pattern`, each with the sets holding it, in
    /// one query over the file index joined to the sets (a fixed last part narrows it through `file_index_by_name`,
    /// else a literal prefix through `file_index_by_path`).
    public func find(glob pattern: String, scope: FindScope = FindScope()) throws -> [FoundFile] {
        let (extra, arguments) = scope.sql
        let (byName, leading) = FindSQL.leading(pattern)
        let sql = FindSQL.files(extra, byName: byName)
        return try read { db in
            var found: [FoundFile] = []
            for row in try Row.fetchAll(db, sql: sql, arguments: leading + arguments, adapter: setAndRest) {
                let file = IndexedFile(row: row.scopes["rest"]!), set = SetRecord(row: row.scopes["set"]!)
                if let last = found.last, last.file == file { found[found.count - 1].sets.append(set) } else {
                    found.append(FoundFile(file: file, sets: [set]))
                }
            }
            return found
        }
    }

    /// The same over logical vault paths, optionally within one vault.
    public func findVaultFiles(glob pattern: String, vault: String? = nil, scope: FindScope = FindScope()) throws -> [FoundVaultFile] {
        var (extra, arguments) = scope.sql
        if let vault { extra = " AND v.vault = ?" + extra; arguments = [vault] + arguments }
        let (byName, leading) = FindSQL.leading(pattern)
        let sql = FindSQL.vaultFiles(extra, oneVault: vault != nil, byName: byName)
        return try read { db in
            var found: [FoundVaultFile] = []
            for row in try Row.fetchAll(db, sql: sql, arguments: leading + arguments, adapter: setAndRest) {
                let file = IndexedVaultFile(row: row.scopes["rest"]!), set = SetRecord(row: row.scopes["set"]!)
                if let last = found.last, last.file == file { found[found.count - 1].sets.append(set) } else {
                    found.append(FoundVaultFile(file: file, sets: [set]))
                }
            }
            return found
        }
    }

    /// Every entry of `set` (all items), by path: what `diff` compares. One range scan of `file_index_by_parent`.
    public func entries(of set: SetRecord) throws -> [IndexedFile] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM file_index INDEXED BY file_index_by_parent WHERE host = ? AND first_ordinal <= ? AND last_ordinal >= ?
                ORDER BY path
                """, arguments: [set.host, set.ordinal, set.ordinal]).map(IndexedFile.init(row:))
        }
    }

    /// Every vault entry of `set`, by vault and logical path.
    public func vaultEntries(of set: SetRecord) throws -> [IndexedVaultFile] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM vault_index INDEXED BY vault_index_by_parent WHERE host = ? AND first_ordinal <= ? AND last_ordinal >= ?
                ORDER BY vault, path
                """, arguments: [set.host, set.ordinal, set.ordinal]).map(IndexedVaultFile.init(row:))
        }
    }

    /// The vault entry at logical `path` in `set`, if it holds one.
    public func vaultFile(vault: String, _ path: String, in set: SetRecord) throws -> IndexedVaultFile? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM vault_index INDEXED BY vault_index_by_path WHERE vault = ? AND path = ? AND host = ?
                AND first_ordinal <= ? AND last_ordinal >= ?
                """, arguments: [vault, path, set.host, set.ordinal, set.ordinal]).map(IndexedVaultFile.init(row:))
        }
    }
}
