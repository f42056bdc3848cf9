import Foundation
import GRDB

/// What `catalog verify` found.
public struct ChainReport: Codable, Sendable, Equatable {
    /// No problem at all.
    public var ok: Bool
    public var events: Int64
    public var head: ChainHead
    /// The first event whose sequence, previous hash or hash does not match.
    public var firstBadSeq: Int64?
    /// Every problem, one line each (the first chain break, missing triggers, SQLite integrity errors).
    public var problems: [String]
}

extension Catalog {
    /// Walks the whole chain recomputing every hash, checks the append-only triggers are in place, and runs
    /// SQLite's integrity check.
    public func verifyChain() throws -> ChainReport {
        try read { db in
            var problems: [String] = [], firstBad: Int64?
            var previous = CanonicalEncoding.genesis, expected: Int64 = 1, count: Int64 = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY seq")
            while let row = try rows.next() {
                count += 1
                let fields = EventFields(row: row)
                let storedPrevious: Data = row["prev_hash"], storedHash: Data = row["hash"]
                if firstBad == nil {
                    if fields.seq != expected {
                        firstBad = expected
                        problems.append("event \(expected) is missing (the chain continues at \(fields.seq))")
                    } else if storedPrevious != previous {
                        firstBad = fields.seq
                        problems.append("event \(fields.seq) does not chain onto event \(fields.seq - 1): its previous hash differs")
                    } else if CanonicalEncoding.hash(previous: previous, fields) != storedHash {
                        firstBad = fields.seq
                        problems.append("event \(fields.seq) does not match its hash: it was rewritten after it was recorded")
                    }
                }
                previous = storedHash
                expected = fields.seq + 1
            }
            // Other hosts' chains copied in from the repository must be whole too.
            for chain in try String.fetchAll(db, sql: "SELECT DISTINCT chain FROM peer_events ORDER BY chain") {
                let events = try Row.fetchAll(db, sql: "SELECT * FROM peer_events WHERE chain = ? ORDER BY seq", arguments: [chain])
                    .map(ChainEvent.init(row:))
                if let problem = ChainEvent.problem(in: events) {
                    problems.append("chain \(chain) of \(events.first?.host ?? "?") (copied from the repository): \(problem)")
                }
            }
            let triggers = try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN ('events', 'peer_events')")
            for trigger in ["events_no_update", "events_no_delete", "peer_events_no_update", "peer_events_no_delete"]
            where !triggers.contains(trigger) {
                problems.append("the append-only trigger \(trigger) is missing: someone dropped it")
            }
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            if integrity != ["ok"] { problems += integrity.prefix(10).map { "SQLite integrity: \($0)" } }
            let (seq, hash) = try Self.head(db)
            return ChainReport(ok: problems.isEmpty, events: count, head: ChainHead(seq: seq, hash: hash.hexString),
                               firstBadSeq: firstBad, problems: problems)
        }
    }
}
