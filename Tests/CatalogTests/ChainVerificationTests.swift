import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

@Suite struct ChainVerificationTests {
    /// A catalog of 10 events.
    private func tenEvents(_ dir: String) throws -> Catalog {
        let catalog = try Fixture.catalog(dir)
        try catalog.append((1...10).map { try EventDraft(VerifyCompleted(checkedPacks: $0, problems: [])) })
        return catalog
    }

    @Test func anUntouchedChainVerifies() throws {
        try Fixture.withDirectory { dir in
            let catalog = try tenEvents(dir)
            let report = try catalog.verifyChain()
            #expect(report.ok)
            #expect(report.events == 10)
            #expect(report.firstBadSeq == nil)
            #expect(report.problems.isEmpty)
            #expect(report.head == (try catalog.head()))
            #expect(report.head.hash == (try catalog.events(EventFilter(limit: 1)))[0].hash.hexString)
        }
    }

    @Test func aRowRewrittenWithTheTriggersDroppedIsNamed() throws {
        try Fixture.withDirectory { dir in
            let catalog = try tenEvents(dir)
            try Fixture.raw(catalog.path).write { db in
                try db.execute(sql: "DROP TRIGGER events_no_update")
                try db.execute(sql: #"UPDATE events SET payload = '{"checkedPacks":4,"problems":["hidden"]}' WHERE seq = 4"#)
            }
            let report = try catalog.verifyChain()
            #expect(!report.ok)
            #expect(report.firstBadSeq == 4)
            #expect(report.problems.contains { $0.contains("event 4") && $0.contains("rewritten") })
            #expect(report.problems.contains { $0.contains("events_no_update") })
        }
    }

    @Test func aRewriteWithARecomputedHashBreaksTheNextLink() throws {
        try Fixture.withDirectory { dir in
            let catalog = try tenEvents(dir)
            try Fixture.raw(catalog.path).write { db in
                try db.execute(sql: "DROP TRIGGER events_no_update")
                let row = try Row.fetchOne(db, sql: "SELECT * FROM events WHERE seq = 6")!
                var fields = EventFields(row: row)
                fields.payload = Data(#"{"checkedPacks":6,"problems":["forged"]}"#.utf8)
                let forged = CanonicalEncoding.hash(previous: row["prev_hash"], fields)
                try db.execute(sql: "UPDATE events SET payload = ?, hash = ? WHERE seq = 6",
                               arguments: [String(decoding: fields.payload, as: UTF8.self), forged])
                // Put the trigger back, so only the chain tells.
                try db.execute(sql: """
                    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'catalog events are append-only: UPDATE rejected'); END
                    """)
            }
            let report = try catalog.verifyChain()
            #expect(report.firstBadSeq == 7)
            #expect(report.problems == ["event 7 does not chain onto event 6: its previous hash differs"])
        }
    }

    @Test func aDeletedRowIsNamed() throws {
        try Fixture.withDirectory { dir in
            let catalog = try tenEvents(dir)
            try Fixture.raw(catalog.path).write { db in
                try db.execute(sql: "DROP TRIGGER events_no_delete")
                try db.execute(sql: "DELETE FROM events WHERE seq = 3")
            }
            let report = try catalog.verifyChain()
            #expect(report.firstBadSeq == 3)
            #expect(report.problems.first == "event 3 is missing (the chain continues at 4)")
        }
    }

    @Test func appendsAfterVerificationStillChain() throws {
        try Fixture.withDirectory { dir in
            let catalog = try tenEvents(dir)
            let reopened = try Catalog.open(at: catalog.path, origin: Fixture.origin)
            try reopened.append(PruneCompleted(removedPacks: 0, removedBytes: 0, keptPacks: 1))
            let report = try catalog.verifyChain()
            #expect(report.ok && report.events == 11)
        }
    }
}
