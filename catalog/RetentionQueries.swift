import Foundation
import GRDB
import Support

extension Catalog {
    /// The sequence number of each set's `backup.started` event: the order sets were recorded in, which a
    /// client's clock cannot change.
    public func startSequences() throws -> [UUID: Int64] {
        try read { db in
            var out: [UUID: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT set_id, seq FROM events WHERE type = ? AND set_id IS NOT NULL",
                                        arguments: [EventType.backupStarted.rawValue]) {
                if let id = Identifiers.parse(row["set_id"]) { out[id] = row["seq"] }
            }
            return out
        }
    }

    /// Sets with at least one passed drill.
    public func provenSets() throws -> Set<UUID> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT set_id FROM drills WHERE status = 'passed'").compactMap(Identifiers.parse))
        }
    }

    /// When each set's data was last read back whole, from the newest `verify.completed` that read data.
    public func lastDataReadBack() throws -> [UUID: Date] {
        let sql = "SELECT * FROM events WHERE type = ? AND payload LIKE '%\"readBack\"%' ORDER BY seq DESC LIMIT 1"
        let event = try read { db in
            try Row.fetchOne(db, sql: sql, arguments: [EventType.verifyCompleted.rawValue]).map(StoredEvent.init(row:))
        }
        guard let payload = event?.decode(VerifyCompleted.self) else { return [:] }
        return Dictionary((payload.readBack ?? []).map { ($0.set, $0.at) }, uniquingKeysWith: max)
    }
}
