import Foundation
import GRDB
import Support

/// A row's node belongs to the snapshot of its `first_ordinal` set. Forgetting a set removes that snapshot (and
/// prune its trees), so the rows it started that later sets still show move to the next set that stays.
extension Catalog {
    /// The set the rows `forgotten` started must move to before its snapshot goes: the next listed, indexed set
    /// of its host, when some row first seen in `forgotten` reaches it. nil when nothing shown points into it.
    public func successorForRows(of forgotten: SetRecord) throws -> SetRecord? {
        let next = try read { db -> (id: String, ordinal: Int)? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT i.set_id, i.ordinal FROM indexed_sets AS i JOIN sets AS s ON s.id = i.set_id
                WHERE i.host = ? AND i.ordinal > ? AND s.status IN ('complete', 'partial') AND s.forgotten_at IS NULL
                ORDER BY i.ordinal LIMIT 1
                """, arguments: [forgotten.host, forgotten.ordinal]) else { return nil }
            return (row[0], row[1])
        }
        guard let next, try stranded(forgotten, next: next.ordinal) > 0 else { return nil }
        return try requireSet(next.id)
    }

    /// Re-points the rows `forgotten` started that reach `next` (its `successorForRows`) to `next`'s entries,
    /// as `contents` derives them from `next`'s snapshot, in one transaction. Fails, changing nothing, when
    /// some such row is not among `next`'s entries: its snapshot must then stay.
    public func repoint(_ forgotten: SetRecord, to next: SetRecord, from contents: any SetContents) throws {
        let items = try details(of: next).items
        try writeWithoutTransaction { db in
            try stage(next, items: items, from: contents, db)
            try db.inTransaction(.immediate) {
                let arguments: StatementArguments = ["host": forgotten.host, "forgotten": forgotten.ordinal, "next": next.ordinal]
                for table in [ContentTable.files, .vaults] { try db.execute(sql: table.repoint, arguments: arguments) }
                let left = try Self.stranded(forgotten, next: next.ordinal, db)
                guard left == 0 else {
                    throw OperatorError.failed("\(left) index rows of forgotten set \(forgotten.name) are not in \(next.name), so its snapshot stays",
                                               remedy: "run `valkyrie catalog rebuild --from-repository`, then forget again")
                }
                return .commit
            }
            for table in [ContentTable.files, .vaults] { try db.execute(sql: "DELETE FROM temp.\(table.staging)") }
        }
    }

    private func stranded(_ forgotten: SetRecord, next: Int) throws -> Int {
        try read { db in try Self.stranded(forgotten, next: next, db) }
    }

    /// Rows first seen in `forgotten` that a set from ordinal `next` on still shows.
    private static func stranded(_ forgotten: SetRecord, next: Int, _ db: Database) throws -> Int {
        try ["file_index", "vault_index"].reduce(0) { count, table in
            count + (try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE host = ? AND first_ordinal = ? AND last_ordinal >= ?",
                                      arguments: [forgotten.host, forgotten.ordinal, next]) ?? 0)
        }
    }
}
