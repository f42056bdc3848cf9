import Foundation
import Support
import Testing
@testable import Catalog

/// A command leaves the WAL empty, so the next process does not re-read it whole; not while another holds it.
@Suite struct CheckpointTests {
    @Test func aFinishedCommandLeavesTheWALEmpty() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            let wal = catalog.path + "-wal"
            #expect(Fixture.bytes(wal).count > 0)
            catalog.checkpointWhenDone()
            #expect(Fixture.bytes(wal).isEmpty)
            let reopened = try Catalog.open(at: catalog.path, mode: .reading, origin: Fixture.origin)
            #expect(try reopened.verifyChain().ok)
            #expect(try reopened.events().count == (try catalog.events()).count)
            reopened.checkpointWhenDone()  // read-only: nothing to do, nothing thrown
        }
    }

    @Test func aReaderInTheMiddleOfATransactionKeepsTheWAL() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            let reader = try Fixture.raw(catalog.path)
            try reader.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM events")
                catalog.checkpointWhenDone()  // waits at most 0.2 s, then leaves the WAL for later
                #expect(Fixture.bytes(catalog.path + "-wal").count > 0)
            }
            catalog.checkpointWhenDone()
            #expect(Fixture.bytes(catalog.path + "-wal").isEmpty)
        }
    }
}
