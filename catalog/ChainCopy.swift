import Foundation
import GRDB
import Support

/// One event as it travels into the repository and back: every stored column, exactly the text the hash
/// covers (canonical-encoding.md), so a copy verifies like the original.
public struct ChainEvent: Codable, Sendable, Equatable {
    public var seq: Int64
    public var uuid: String
    public var type: String
    public var version: Int
    public var occurredAt: String
    public var recordedAt: String
    public var host: String
    public var actorUID: Int64
    public var actorName: String
    public var setID: String?
    public var payload: String
    public var previousHash: Data
    public var hash: Data

    init(row: Row) {
        let fields = EventFields(row: row)
        self.init(seq: fields.seq, uuid: fields.uuid, type: fields.type, version: fields.version, occurredAt: fields.occurredAt,
                  recordedAt: fields.recordedAt, host: fields.host, actorUID: fields.actorUID, actorName: fields.actorName,
                  setID: fields.setID, payload: row["payload"], previousHash: row["prev_hash"], hash: row["hash"])
    }

    init(seq: Int64, uuid: String, type: String, version: Int, occurredAt: String, recordedAt: String, host: String,
         actorUID: Int64, actorName: String, setID: String?, payload: String, previousHash: Data, hash: Data) {
        self.seq = seq; self.uuid = uuid; self.type = type; self.version = version; self.occurredAt = occurredAt
        self.recordedAt = recordedAt; self.host = host; self.actorUID = actorUID; self.actorName = actorName
        self.setID = setID; self.payload = payload; self.previousHash = previousHash; self.hash = hash
    }

    var fields: EventFields {
        EventFields(seq: seq, uuid: uuid, type: type, version: version, occurredAt: occurredAt, recordedAt: recordedAt,
                    host: host, actorUID: actorUID, actorName: actorName, setID: setID, payload: Data(payload.utf8))
    }

    /// The id of the chain that starts with this event: its UUID in lower case.
    public var chainID: String { uuid.lowercased() }

    /// The first problem of a chain read back from elsewhere (events 1...n in order, each chaining onto the one
    /// before and matching its hash), or nil when it is whole.
    public static func problem(in chain: [ChainEvent]) -> String? {
        var previous = CanonicalEncoding.genesis
        for (offset, event) in chain.enumerated() {
            guard event.seq == Int64(offset) + 1 else { return "event \(offset + 1) is missing" }
            guard event.previousHash == previous else { return "event \(event.seq) does not chain onto event \(event.seq - 1)" }
            guard CanonicalEncoding.hash(previous: previous, event.fields) == event.hash else {
                return "event \(event.seq) does not match its hash"
            }
            previous = event.hash
        }
        return nil
    }
}

/// What a repository last confirmed of this catalog's chain.
public struct ConfirmedHead: Codable, Sendable, Equatable {
    public var repository: String
    public var chain: String
    public var seq: Int64
    /// Hex SHA-256 of event `seq`.
    public var hash: String
    public var confirmedAt: Date
}

/// Another host's chain held in this catalog (copied in from the repository).
public struct PeerChain: Codable, Sendable, Equatable {
    public var chain: String
    /// The hosts that recorded its events and whose sets it started.
    public var hosts: [String]
    public var events: Int64
    public var head: ChainHead
}

extension Catalog {
    /// This catalog's chain id (the lowercase UUID of its event 1), or nil while it has no events.
    public func chainID() throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT uuid FROM events WHERE seq = 1")?.lowercased() }
    }

    /// The events after `seq` (at most `limit` of them), oldest first, as stored.
    public func chainEvents(after seq: Int64, limit: Int = Int.max) throws -> [ChainEvent] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, Int64(min(limit, Int(Int64.max)))])
                .map(ChainEvent.init(row:))
        }
    }

    /// Event `seq` as stored, or nil.
    public func chainEvent(_ seq: Int64) throws -> ChainEvent? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM events WHERE seq = ?", arguments: [seq]).map(ChainEvent.init(row:)) }
    }

    /// No events of its own and none copied from other hosts.
    public func isEmpty() throws -> Bool {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM peer_events)") == 0
        }
    }

    /// What repository `repository` (its config id) last confirmed, or nil when it never did.
    public func confirmedHead(in repository: String) throws -> ConfirmedHead? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM repository_heads WHERE repository = ?", arguments: [repository]).map {
                ConfirmedHead(repository: $0["repository"], chain: $0["chain"], seq: $0["seq"], hash: ($0["hash"] as Data).hexString,
                              confirmedAt: CatalogTime.parse($0["confirmed_at"]))
            }
        }
    }

    /// Records that `repository` holds this catalog's chain up to event `seq`; never moves backwards.
    ///
    /// Committed without waiting for the disk: a confirmation a crash loses only makes the next command compare
    /// the chain with the repository again (it finds the same head and confirms it), whereas every append is synced.
    public func confirm(_ seq: Int64, in repository: String) throws {
        try writeUnsynced { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events WHERE seq = ?", arguments: [seq]),
                  let chain = try String.fetchOne(db, sql: "SELECT uuid FROM events WHERE seq = 1")?.lowercased() else { return }
            try db.execute(sql: """
                INSERT INTO repository_heads (repository, chain, seq, hash, confirmed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (repository) DO UPDATE SET chain = excluded.chain, seq = excluded.seq, hash = excluded.hash,
                    confirmed_at = excluded.confirmed_at
                WHERE excluded.seq >= repository_heads.seq OR excluded.chain != repository_heads.chain
                """, arguments: [repository, chain, seq, row["hash"] as Data, CatalogTime.string(CatalogTime.microseconds(Date()))])
        }
    }

    /// `write` with this one commit at `synchronous = NORMAL` (in WAL mode: no fsync; the next synced commit or
    /// checkpoint carries it to disk), for records the next command makes again when a crash loses them.
    private func writeUnsynced<T>(_ body: (Database) throws -> T) throws -> T {
        try writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            let outcome = Result { () throws -> T in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
            // Back to FULL whatever happened: every other commit on this connection must reach the disk.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try outcome.get()
        }
    }

    /// Other hosts' chains held here.
    public func peerChains() throws -> [PeerChain] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT chain, count(*) AS events, max(seq) AS seq,
                       (SELECT group_concat(h) FROM (SELECT host AS h FROM peer_events AS e WHERE e.chain = p.chain
                                                     UNION SELECT json_extract(payload, '$.host') FROM peer_events AS s
                                                     WHERE s.chain = p.chain AND s.type = 'backup.started')) AS hosts,
                       (SELECT hash FROM peer_events AS h WHERE h.chain = p.chain ORDER BY seq DESC LIMIT 1) AS hash
                FROM peer_events AS p GROUP BY chain ORDER BY chain
                """).map {
                PeerChain(chain: $0["chain"], hosts: (($0["hosts"] as String?) ?? "").split(separator: ",").map(String.init).sorted(),
                          events: $0["events"], head: ChainHead(seq: $0["seq"], hash: ($0["hash"] as Data).hexString))
            }
        }
    }

    /// Fills an empty catalog from chains read back from a repository: `own` becomes this catalog's chain (the
    /// next event continues it), `peers` are other hosts' chains; then the projections are replayed. Every chain
    /// is checked whole first; nothing is written if one is not.
    public func importChains(own: [ChainEvent], peers: [[ChainEvent]]) throws {
        for chain in [own] + peers {
            if let problem = ChainEvent.problem(in: chain) {
                throw OperatorError.failed("a chain read back from the repository is broken: \(problem)",
                                           remedy: "run `valkyrie catalog verify` against the repository's catalog")
            }
        }
        try write { db in
            guard try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM peer_events)") == 0 else {
                throw OperatorError.badInput("catalog \(path) is not empty", remedy: "rebuild into a new catalog file")
            }
            for event in own {
                try db.execute(sql: """
                    INSERT INTO events (seq, uuid, type, version, occurred_at, recorded_at, host, actor_uid, actor_name,
                                        set_id, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: Self.columns(event))
            }
            for chain in peers {
                guard let id = chain.first?.chainID else { continue }
                for event in chain {
                    try db.execute(sql: """
                        INSERT INTO peer_events (chain, seq, uuid, type, version, occurred_at, recorded_at, host, actor_uid,
                                                 actor_name, set_id, payload, prev_hash, hash)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [id] + Self.columns(event))
                }
            }
        }
        try rebuild()
    }

    private static func columns(_ event: ChainEvent) -> StatementArguments {
        [event.seq, event.uuid, event.type, event.version, event.occurredAt, event.recordedAt, event.host, event.actorUID,
         event.actorName, event.setID, event.payload, event.previousHash, event.hash]
    }

    /// Closes the file (checkpointing the WAL), so it can be moved; the catalog is unusable afterwards.
    public func close() throws {
        try CatalogErrors.mapping(path) { try pool.close() }
    }
}
