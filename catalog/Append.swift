import CSQLite
import Foundation
import GRDB
import Support

extension Catalog {
    /// Appends one typed event.
    @discardableResult
    public func append<P: EventPayload>(_ payload: P, occurredAt: Date = Date()) throws -> StoredEvent {
        try append([EventDraft(payload, occurredAt: occurredAt)])[0]
    }

    /// Appends events in order, in one transaction: all or none. The rows go into `events` several per statement
    /// (`insert`), then each event updates the projections in order.
    @discardableResult
    public func append(_ drafts: [EventDraft]) throws -> [StoredEvent] {
        try write { db in
            var head = try Self.head(db)
            var ids = Identifiers.Batch()
            let made = drafts.map { draft in
                let event = chained(draft, after: head, ids: &ids)
                head = (event.stored.seq, event.stored.hash)
                return event
            }
            try Self.insert(made, db: db)
            for (event, draft) in zip(made, drafts) { try Projector.apply(event.fields, typed: draft.typed, db) }
            return made.map(\.stored)
        }
    }

    /// Starts a set: appends `backup.started` with a new UUID, the next ordinal of `host` and the name
    /// `<UTC compact time>_<host>`. Refused when a set of that name exists (two backups in one second).
    public func startSet(host: String? = nil, startedAt: Date = Date(), valkyrieVersion: String,
                         items: [String]) throws -> SetRecord {
        let host = host ?? origin.host
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), host.first != "." else {
            throw OperatorError.badInput("host name \"\(host)\" cannot name a set",
                                         remedy: "use letters, digits, '-', '_' and '.' only")
        }
        let name = "\(UTCTime.compact(startedAt))_\(host)"
        return try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM sets WHERE name = ?", arguments: [name]) == true {
                throw OperatorError.failed("a set named \(name) already exists in \(path)",
                                           remedy: "start the next backup a second later")
            }
            let ordinal = try Int.fetchOne(db, sql: "SELECT coalesce(max(ordinal), 0) + 1 FROM sets WHERE host = ?",
                                           arguments: [host]) ?? 1
            let started = BackupStarted(set: Identifiers.random(), name: name, host: host, ordinal: ordinal,
                                        valkyrieVersion: valkyrieVersion, items: items)
            var ids = Identifiers.Batch()
            _ = try append(try EventDraft(started, occurredAt: startedAt), in: db, after: Self.head(db), ids: &ids)
            return try Queries.set(started.set, db)!
        }
    }

    /// The newest event's sequence number and hash.
    public func head() throws -> ChainHead {
        try read { db in
            let (seq, hash) = try Self.head(db)
            return ChainHead(seq: seq, hash: hash.hexString)
        }
    }

    static func head(_ db: Database) throws -> (Int64, Data) {
        if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")) {
            return (row["seq"], row["hash"])
        }
        return (0, CanonicalEncoding.genesis)
    }

    /// Appends inside the caller's write transaction: chains onto `head` (read in that transaction), stores,
    /// and updates the projections. The event's UUID comes from `ids`, the transaction's.
    func append(_ draft: EventDraft, in db: Database, after head: (Int64, Data),
                ids: inout Identifiers.Batch) throws -> StoredEvent {
        let event = chained(draft, after: head, ids: &ids)
        try Self.insert([event], db: db)
        try Projector.apply(event.fields, typed: draft.typed, db)
        return event.stored
    }

    /// The event `draft` becomes after `head`: its stored columns and chain hash.
    private func chained(_ draft: EventDraft, after head: (Int64, Data), ids: inout Identifiers.Batch) -> ChainedEvent {
        let (seq, previous) = head
        let now = Date()
        let occurredAt = CatalogTime.microseconds(draft.occurredAt), recordedAt = CatalogTime.microseconds(now)
        let id = ids.next(now)
        let fields = EventFields(
            seq: seq + 1, uuid: id.storedText, type: draft.type.rawValue, version: draft.version,
            occurredAt: CatalogTime.string(occurredAt), recordedAt: CatalogTime.string(recordedAt), host: origin.host,
            actorUID: Int64(origin.uid), actorName: origin.user, setID: draft.set?.storedText, payload: draft.payload)
        let hash = CanonicalEncoding.hash(previous: previous, fields)
        return ChainedEvent(fields: fields, stored: StoredEvent(
            seq: fields.seq, uuid: id, type: draft.type, version: draft.version, occurredAt: occurredAt,
            recordedAt: recordedAt, host: fields.host, actorUID: origin.uid, actorName: origin.user, set: draft.set,
            payload: draft.payload, previousHash: previous, hash: hash))
    }

    /// Rows of `events`, `rowsPerStatement` to an INSERT: one statement's run (GRDB's and SQLite's setup, the table
    /// and its four indexes opened and closed) serves that many rows instead of one.
    static func insert(_ events: [ChainedEvent], db: Database) throws {
        var start = 0
        while start < events.count {
            let count = min(rowsPerStatement, events.count - start)
            let sql = count == rowsPerStatement ? fullInsert : count == 1 ? singleInsert : insertSQL(rows: count)
            try bindingEach(db, sql) { bind in
                for event in events[start..<start + count] {
                    let f = event.fields
                    try bind(f.seq); try bind(f.uuid); try bind(f.type); try bind(f.version); try bind(f.occurredAt)
                    try bind(f.recordedAt); try bind(f.host); try bind(f.actorUID); try bind(f.actorName); try bind(f.setID)
                    try bind(UTF8Text(bytes: f.payload)); try bind(event.stored.previousHash); try bind(event.stored.hash)
                }
            }
            start += count
        }
    }

    static let rowsPerStatement = 32
    private static let fullInsert = insertSQL(rows: rowsPerStatement), singleInsert = insertSQL(rows: 1)

    private static func insertSQL(rows: Int) -> String {
        """
        INSERT INTO events (seq, uuid, type, version, occurred_at, recorded_at, host, actor_uid, actor_name, set_id,
                            payload, prev_hash, hash)
        VALUES \(repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
        """
    }
}

/// An event ready to store: its columns (as hashed) and what `append` returns.
struct ChainedEvent {
    let fields: EventFields
    let stored: StoredEvent
}

extension Catalog {
    /// Runs one of the append path's fixed statements, cached, with exactly its arguments bound one by one: no
    /// `StatementArguments` array of boxed values and no per-call validation (GRDB's argument handling was a
    /// tenth of an append's CPU in the profile), text without copies (`CatalogBinding`). The parameter count is
    /// the caller's SQL's.
    static func execute<each V: CatalogBinding>(_ db: Database, _ sql: String, _ values: repeat each V) throws {
        try bindingEach(db, sql) { bind in
            for value in repeat each values { try bind(value) }
        }
    }

    /// Runs the cached statement of `sql` after `body` has bound its parameters in order, through the function it
    /// is given.
    static func bindingEach(_ db: Database, _ sql: String,
                            _ body: (_ bind: (any CatalogBinding) throws -> Void) throws -> Void) throws {
        let statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments([])  // resets the statement and clears the last call's bindings
        var index: CInt = 0
        try body { value in
            index += 1
            let code = value.bind(statement.sqliteStatement, at: index)
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
            }
        }
        try statement.execute()
    }
}

extension StoredEvent {
    /// Reads a row of `events`.
    init(row: Row) {
        let fields = EventFields(row: row)
        self.init(seq: fields.seq, uuid: Identifiers.parse(fields.uuid) ?? UUID(), type: EventType(rawValue: fields.type),
                  version: fields.version, occurredAt: CatalogTime.parse(fields.occurredAt),
                  recordedAt: CatalogTime.parse(fields.recordedAt), host: fields.host,
                  actorUID: UInt32(truncatingIfNeeded: fields.actorUID), actorName: fields.actorName,
                  set: fields.setID.flatMap(Identifiers.parse), payload: fields.payload,
                  previousHash: row["prev_hash"], hash: row["hash"])
    }
}

extension EventFields {
    init(row: Row) {
        let payload: String = row["payload"]
        self.init(seq: row["seq"], uuid: row["uuid"], type: row["type"], version: row["version"],
                  occurredAt: row["occurred_at"], recordedAt: row["recorded_at"], host: row["host"],
                  actorUID: row["actor_uid"], actorName: row["actor_name"], setID: row["set_id"],
                  payload: Data(payload.utf8))
    }
}
