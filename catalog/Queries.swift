import Foundation
import GRDB
import Support

/// Which events `log` shows.
public struct EventFilter: Sendable, Equatable {
    public var type: EventType?
    /// Events that occurred at or after this time.
    public var since: Date?
    public var set: UUID?
    /// The newest `limit` events only.
    public var limit: Int?
    public init(type: EventType? = nil, since: Date? = nil, set: UUID? = nil, limit: Int? = nil) {
        self.type = type; self.since = since; self.set = set; self.limit = limit
    }
}

extension Catalog {
    /// Events in chain order, filtered.
    public func events(_ filter: EventFilter = EventFilter()) throws -> [StoredEvent] {
        let (sql, arguments) = Queries.events(filter)
        return try read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(StoredEvent.init(row:)) }
    }

    /// Sets `sets` lists (complete or partial, not forgotten), oldest first; `all` adds running, failed and
    /// forgotten ones.
    public func sets(all: Bool = false, host: String? = nil) throws -> [SetRecord] {
        let listed = "status IN ('complete', 'partial') AND forgotten_at IS NULL"
        var conditions = all ? [] : [listed], arguments: StatementArguments = []
        if let host { conditions.append("host = ?"); arguments += [host] }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read { db in
            // A cursor reads columns straight from the statement, without copying each row first.
            try Array(Row.fetchCursor(db, sql: "SELECT \(SetRecord.columns(of: "sets")) FROM sets \(whereClause) ORDER BY started_at, name",
                                      arguments: arguments).map(SetRecord.init(row:)))
        }
    }

    /// The set with this name or UUID.
    public func set(_ reference: String) throws -> SetRecord? {
        try read { db in
            if let id = Identifiers.parse(reference) { return try Queries.set(id, db) }
            return try Row.fetchOne(db, sql: "SELECT \(SetRecord.columns(of: "sets")) FROM sets WHERE name = ?", arguments: [reference]).map(SetRecord.init(row:))
        }
    }

    /// The set with this name or UUID, or `badInput` naming it.
    public func requireSet(_ reference: String) throws -> SetRecord {
        guard let set = try set(reference) else {
            throw OperatorError.badInput("no set \(reference) in catalog \(path)", remedy: "see `valkyrie sets` for the sets there are")
        }
        return set
    }

    /// The newest listed set of a host (what `latest` points at).
    public func latestSet(host: String? = nil) throws -> SetRecord? {
        try sets(host: host).last
    }

    /// The newest finished (passed or failed) drill of every set that has one, by set, in one query: what
    /// `sets` shows. Newest as `details(of:)` orders drills (start time, then recording order); checks not loaded.
    public func lastFinishedDrills() throws -> [UUID: DrillRecord] {
        try read { db in
            var last: [UUID: DrillRecord] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM drills WHERE status != 'running' ORDER BY started_at, rowid")
            while let row = try rows.next() {
                let drill = DrillRecord(row: row, checks: [])
                last[drill.set] = drill
            }
            return last
        }
    }

    /// Items, exports, drills (with checks) and restores of a set.
    public func details(of set: SetRecord) throws -> SetDetails {
        try read { db in
            let id = set.id.storedText
            let items = try Row.fetchAll(db, sql: "SELECT * FROM items WHERE set_id = ? ORDER BY captured_at, item", arguments: [id])
                .map(ItemRecord.init(row:))
            let exports = try Row.fetchAll(db, sql: "SELECT * FROM exports WHERE set_id = ? ORDER BY seq", arguments: [id])
                .map(ExportRecord.init(row:))
            let drills = try Row.fetchAll(db, sql: "SELECT * FROM drills WHERE set_id = ? ORDER BY started_at", arguments: [id])
                .map { row in
                    try DrillRecord(row: row, checks: Row.fetchAll(
                        db, sql: "SELECT * FROM drill_checks WHERE drill_id = ? ORDER BY seq", arguments: [row["id"] as String]
                    ).map(DrillCheckRecord.init(row:)))
                }
            let restores = try Row.fetchAll(db, sql: Queries.restores(" AND set_id = ?") + " ORDER BY seq, chain", arguments: [id, id])
                .map(RestoreRecord.init(row:))
            return SetDetails(set: set, items: items, exports: exports, drills: drills, restores: restores)
        }
    }
}

enum Queries {
    /// `log`'s statement for `filter`. Each filter searches its index: the set's and the type's give the events in
    /// seq order already; with a time bound the order is `+seq`, since ordering by the bare rowid makes SQLite scan
    /// the whole log in seq order rather than search the time index and sort what it found.
    static func events(_ filter: EventFilter) -> (String, StatementArguments) {
        var conditions: [String] = [], arguments: StatementArguments = []
        if let type = filter.type { conditions.append("type = ?"); arguments += [type.rawValue] }
        if let since = filter.since { conditions.append("occurred_at >= ?"); arguments += [UTCTime.string(since)] }
        if let set = filter.set { conditions.append("set_id = ?"); arguments += [set.storedText] }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let order = filter.since == nil ? "seq" : "+seq"
        guard let limit = filter.limit else { return ("SELECT * FROM events \(whereClause) ORDER BY \(order)", arguments) }
        return ("SELECT * FROM (SELECT * FROM events \(whereClause) ORDER BY \(order) DESC LIMIT \(max(0, limit))) ORDER BY seq", arguments)
    }

    /// Restores, read from the log (migration 0007): the file.restored and key.extracted events of this catalog's
    /// chain ('') and of the chains copied in, as rows of the columns `RestoreRecord` reads. `condition` is added to
    /// both halves (its arguments bound twice).
    static func restores(_ condition: String) -> String {
        let columns = """
            seq, set_id, CASE type WHEN 'file.restored' THEN 'file' ELSE 'key' END AS kind,
            json_extract(payload, '$.item') AS item, json_extract(payload, '$.path') AS path,
            json_extract(payload, '$.vault') AS vault, json_extract(payload, '$.target') AS target,
            json_extract(payload, '$.size') AS size, json_extract(payload, '$.digest') AS digest,
            CASE type WHEN 'file.restored' THEN '[]' ELSE json_extract(payload, '$.recipients') END AS recipients,
            occurred_at AS restored_at
            """
        let rows = "WHERE type IN ('file.restored', 'key.extracted') AND set_id IS NOT NULL" + condition
        return "SELECT '' AS chain, \(columns) FROM events \(rows) UNION ALL SELECT chain, \(columns) FROM peer_events \(rows)"
    }

    static func set(_ id: UUID, _ db: Database) throws -> SetRecord? {
        try Row.fetchOne(db, sql: "SELECT \(SetRecord.columns(of: "sets")) FROM sets WHERE id = ?", arguments: [id.storedText]).map(SetRecord.init(row:))
    }

    static func strings(_ json: String?) -> [String] {
        guard let json, json != "[]" else { return [] }
        return (try? PayloadCoding.decoder.decode([String].self, from: Data(json.utf8))) ?? []
    }

    static func date(_ text: String?) -> Date? { text.map(CatalogTime.parse) }
}

extension SetRecord {
    /// The columns `init(row:)` reads, by position: name lookups per column were most of the cost of
    /// listing ten thousand sets.
    static let columnNames = ["id", "name", "host", "ordinal", "status", "started_at", "finished_at", "valkyrie_version",
                              "item_count", "size", "warnings", "warning_count", "error", "forgotten_at"]

    static func columns(of table: String) -> String {
        columnNames.map { "\(table).\($0)" }.joined(separator: ", ")
    }

    init(row: Row) {
        self.init(id: Identifiers.parse(row[0]) ?? UUID(), name: row[1], host: row[2], ordinal: row[3],
                  status: SetStatus(rawValue: row[4]) ?? .failed, startedAt: CatalogTime.parse(row[5]),
                  finishedAt: Queries.date(row[6]), valkyrieVersion: row[7], items: row[8], size: row[9],
                  warnings: Queries.strings(row[10]), warningCount: row[11], error: row[12],
                  forgottenAt: Queries.date(row[13]))
    }
}

extension ItemRecord {
    init(row: Row) {
        self.init(item: row["item"], root: row["root"], digest: row["digest"], size: row["size"], files: row["files"],
                  keyMaterial: row["key_material"], warnings: Queries.strings(row["warnings"]),
                  capturedAt: CatalogTime.parse(row["captured_at"]))
    }
}

extension ExportRecord {
    init(row: Row) {
        self.init(seq: row["seq"], export: row["export"], vault: row["vault"], recipients: Queries.strings(row["recipients"]),
                  vaults: Queries.strings(row["vaults"]), digest: row["digest"], size: row["size"],
                  recordedAt: CatalogTime.parse(row["recorded_at"]))
    }
}

extension DrillRecord {
    init(row: Row, checks: [DrillCheckRecord]) {
        self.init(id: Identifiers.parse(row["id"]) ?? UUID(), set: Identifiers.parse(row["set_id"]) ?? UUID(),
                  status: DrillStatus(rawValue: row["status"]) ?? .failed, startedAt: CatalogTime.parse(row["started_at"]),
                  finishedAt: Queries.date(row["finished_at"]), passed: row["passed"], failed: row["failed"],
                  report: row["report"], checks: checks)
    }
}

extension DrillCheckRecord {
    init(row: Row) {
        self.init(seq: row["seq"], name: row["name"], passed: row["passed"], evidence: row["evidence"],
                  checkedAt: CatalogTime.parse(row["checked_at"]))
    }
}

extension RestoreRecord {
    init(row: Row) {
        self.init(seq: row["seq"], kind: Kind(rawValue: row["kind"]) ?? .file, item: row["item"], path: row["path"],
                  vault: row["vault"], target: row["target"], size: row["size"], digest: row["digest"],
                  recipients: Queries.strings(row["recipients"]), restoredAt: CatalogTime.parse(row["restored_at"]))
    }
}
