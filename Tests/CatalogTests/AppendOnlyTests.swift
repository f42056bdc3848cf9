import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

@Suite struct AppendOnlyTests {
    @Test func updateAndDeleteAreRejectedByTriggers() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            let raw = try Fixture.raw(catalog.path)
            let before = try raw.read { db in try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY seq") }
            for sql in ["UPDATE events SET payload = '{}' WHERE seq = 2", "UPDATE events SET hash = x'00'",
                        "DELETE FROM events WHERE seq = 3", "DELETE FROM events"] {
                #expect(throws: DatabaseError.self) { try raw.write { db in try db.execute(sql: sql) } }
                do {
                    try raw.write { db in try db.execute(sql: sql) }
                } catch let error as DatabaseError {
                    #expect(error.message?.contains("append-only") == true)
                }
            }
            let after = try raw.read { db in try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY seq") }
            #expect(before == after)
            #expect(try catalog.verifyChain().ok)
        }
    }

    @Test func connectionsAreHardened() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let settings = try catalog.settings()
            #expect(settings.journalMode == "wal")
            #expect(settings.busyTimeoutMilliseconds == 60_000)
            #expect(settings.trustedSchema == false)
            #expect(settings.synchronous == 2)
            #expect(settings.defensive == true)
        }
    }

    @Test func defensiveModeStopsSchemaSurgery() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            #expect(throws: OperatorError.self) {
                try catalog.write { db in
                    try db.execute(sql: "PRAGMA writable_schema = ON")
                    try db.execute(sql: "UPDATE sqlite_schema SET sql = 'CREATE TRIGGER x' WHERE name = 'events_no_update'")
                }
            }
            let triggers = try catalog.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")
            }
            #expect(triggers == ["events_no_delete", "events_no_update", "peer_events_no_delete", "peer_events_no_update"])
        }
    }
}
