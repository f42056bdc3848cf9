import Foundation
import GRDB

/// What `catalog rebuild` did.
public struct RebuildReport: Codable, Sendable, Equatable {
    public var events: Int64
    public var sets: Int
    public var items: Int
    public var exports: Int
    public var drills: Int
    public var restores: Int
    /// Whether the file and vault index were re-derived from set contents, or kept (no contents given).
    public var contentIndexes: String
    public var fileIndexRows: Int
    public var vaultIndexRows: Int
}

extension Catalog {
    /// Empties the projections and replays every event into them (this catalog's chain, then other hosts'
    /// chains copied in from the repository), in one transaction. With `contents`, the
    /// file and vault index are re-derived from the listed sets too; without, they are kept as they are.
    @discardableResult
    public func rebuild(contents: (any SetContents)? = nil) throws -> RebuildReport {
        let events = try write { db -> Int64 in
            for table in Projector.tables { try db.execute(sql: "DELETE FROM \(table)") }
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY seq")
            var count: Int64 = 0
            while let row = try rows.next() {
                try Projector.apply(EventFields(row: row), typed: nil, db)
                count += 1
            }
            // Other hosts' chains after this one: their sets and what happened to them.
            let peers = try Row.fetchCursor(db, sql: "SELECT * FROM peer_events ORDER BY chain, seq")
            while let row = try peers.next() {
                try Projector.apply(EventFields(row: row), typed: nil, chain: row["chain"], db)
                count += 1
            }
            return count
        }
        if let contents { try reindexAll(from: contents) }
        return try read { db in
            func count(_ table: String) throws -> Int { try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
            return RebuildReport(events: events, sets: try count("sets"), items: try count("items"),
                                 exports: try count("exports"), drills: try count("drills"),
                                 restores: try count("(\(Queries.restores("")))"),
                                 contentIndexes: contents == nil ? "kept" : "rebuilt",
                                 fileIndexRows: try count("file_index"), vaultIndexRows: try count("vault_index"))
        }
    }
}
