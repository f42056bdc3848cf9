import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

@Suite struct ProjectionRebuildTests {
    @Test func rebuiltProjectionsEqualIncrementalOnes() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            let before = try Projector.tables.map { try Fixture.rows(catalog, $0) }
            #expect(before.allSatisfy { !$0.isEmpty })
            let report = try catalog.rebuild()
            #expect(try Projector.tables.map { try Fixture.rows(catalog, $0) } == before)
            #expect(report.events == (try catalog.head()).seq)
            #expect(report.sets == 6 && report.contentIndexes == "kept")
            #expect(try catalog.verifyChain().ok)
        }
    }

    @Test func projectionsComeOnlyFromEvents() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            let before = try Projector.tables.map { try Fixture.rows(catalog, $0) }
            // Vandalise every projection; the events alone bring them back.
            try catalog.write { db in
                try db.execute(sql: "DELETE FROM items; UPDATE sets SET status = 'failed'; DELETE FROM drills")
                try db.execute(sql: "INSERT INTO exports VALUES ('', 999, 'x', 'x', NULL, '[]', '[]', 'x', 1, 'x')")
            }
            try catalog.rebuild()
            #expect(try Projector.tables.map { try Fixture.rows(catalog, $0) } == before)
        }
    }
}
