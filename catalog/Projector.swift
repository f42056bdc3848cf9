import Foundation
import GRDB
import Support

extension EventPayload {
    static func decodePayload(_ data: Data) throws -> any EventPayload {
        try PayloadCoding.decoder.decode(Self.self, from: data)
    }
}

/// Keeps the projections (sets, items, exports, drills; restores are read from the log) in step with the events.
/// The same code runs for every append and for `catalog rebuild`, so rebuilt rows equal incrementally maintained ones.
/// Events of unknown types, or payloads this build cannot decode, change no projection.
enum Projector {
    static let tables = ["sets", "items", "exports", "drills", "drill_checks"]
    private static let restoredType = EventType.fileRestored.rawValue, extractedType = EventType.keyExtracted.rawValue

    /// `chain` keys the rows made per event (exports, drill checks): '' for this catalog's own chain,
    /// the chain id for another host's chain copied in from the repository.
    static func apply(_ event: EventFields, typed: (any EventPayload)?, chain: String = "", _ db: Database) throws {
        // A set's restores are read from the log itself (Queries.restores, migration 0007): nothing to write or decode.
        if event.type == restoredType || event.type == extractedType { return }
        guard let payload = typed ?? KnownEvents.byType[EventType(rawValue: event.type)].flatMap({ try? $0.decodePayload(event.payload) })
        else { return }
        let at = event.occurredAt
        switch payload {
        case let started as BackupStarted:
            try run(db, """
                INSERT INTO sets (id, name, host, ordinal, status, started_at, valkyrie_version)
                VALUES (?, ?, ?, ?, 'running', ?, ?)
                """, started.set.storedText, started.name, started.host, started.ordinal, at, started.valkyrieVersion)
        case let item as ItemCaptured:
            try run(db, """
                INSERT OR REPLACE INTO items (set_id, item, root, digest, size, files, key_material, warnings, captured_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, item.set.storedText, item.item, item.root, item.digest, item.size, item.files, item.keyMaterial,
                      try json(item.warnings), at)
            try totals(item.set, db)
        case let completed as BackupCompleted:
            try run(db, "UPDATE sets SET warnings = ?, finished_at = ? WHERE id = ? AND status = 'running'",
                    try json(completed.warnings), at, completed.set.storedText)
            try totals(completed.set, db)
            try run(db, """
                UPDATE sets SET status = CASE WHEN warning_count > 0 THEN 'partial' ELSE 'complete' END
                WHERE id = ? AND status = 'running'
                """, completed.set.storedText)
        case let failed as BackupFailed:
            try run(db, "UPDATE sets SET status = 'failed', finished_at = ?, error = ? WHERE id = ? AND status = 'running'",
                    at, failed.error, failed.set.storedText)
        case let export as ExportRecorded:
            try run(db, """
                INSERT INTO exports (chain, seq, set_id, export, vault, recipients, vaults, digest, size, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, chain, event.seq, export.set.storedText, export.export, export.vault, try json(export.recipients),
                      try json(export.vaults), export.digest, export.size, at)
        case let forgotten as SetForgotten:
            try run(db, "UPDATE sets SET forgotten_at = ? WHERE id = ? AND forgotten_at IS NULL",
                    at, forgotten.set.storedText)
        case let drill as DrillStarted:
            try run(db, "INSERT OR IGNORE INTO drills (id, set_id, status, started_at) VALUES (?, ?, 'running', ?)",
                    drill.drill.storedText, drill.set.storedText, at)
        case let check as DrillCheck:
            try run(db, "INSERT INTO drill_checks (chain, seq, drill_id, name, passed, evidence, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    chain, event.seq, check.drill.storedText, check.name, check.passed, check.evidence, at)
            try run(db, "UPDATE drills SET passed = passed + ?, failed = failed + ? WHERE id = ?",
                    check.passed ? 1 : 0, check.passed ? 0 : 1, check.drill.storedText)
        case let done as DrillCompleted:
            try run(db, "UPDATE drills SET status = ?, finished_at = ?, report = ? WHERE id = ? AND status = 'running'",
                    done.passed ? "passed" : "failed", at, done.report, done.drill.storedText)
        default:
            // repository initialized, prune / verify completed, chain anchored: in the log only.
            break
        }
    }

    /// Items, size and warnings of a set, recomputed from its items.
    private static func totals(_ set: UUID, _ db: Database) throws {
        try run(db, """
            UPDATE sets SET
                item_count = (SELECT count(*) FROM items WHERE set_id = sets.id),
                size = (SELECT coalesce(sum(size), 0) FROM items WHERE set_id = sets.id),
                warning_count = json_array_length(warnings)
                    + (SELECT coalesce(sum(json_array_length(warnings)), 0) FROM items WHERE set_id = sets.id)
            WHERE id = ?
            """, set.storedText)
    }

    private static func run<each V: CatalogBinding>(_ db: Database, _ sql: String, _ values: repeat each V) throws {
        try Catalog.execute(db, sql, repeat each values)
    }

    static func json(_ strings: [String]) throws -> String {
        String(decoding: try PayloadJSON.encode(strings), as: UTF8.self)
    }
}
