import Crypto
import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

@Suite struct MigrationTests {
    /// catalog/migrations in the source tree.
    static let sourceMigrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../catalog/migrations").standardizedFileURL.path

    @Test func everyNumberedFileIsBundledInOrderWithItsChecksum() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sourceMigrations)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == ["0001_events.sql", "0002_projections.sql", "0003_content_indexes.sql", "0004_chains.sql"])
        #expect(Migrator.bundled.map(\.version) == [1, 2, 3, 4])
        for (file, migration) in zip(files, Migrator.bundled) {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.sourceMigrations + "/" + file))
            #expect(migration.name + ".sql" == file)
            #expect(migration.sha256 == SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())
        }
    }

    @Test func aNewCatalogRecordsEveryMigrationOnce() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let expected = Migrator.bundled.map { AppliedMigration(version: $0.version, name: $0.name, sha256: $0.sha256) }
            #expect(try catalog.settings().migrations == expected)
            // Opening again applies nothing twice and keeps the data.
            try catalog.append(PruneCompleted(removedPacks: 1, removedBytes: 1, keptPacks: 1))
            let again = try Catalog.open(at: catalog.path)
            #expect(try again.settings().migrations == expected)
            #expect(try again.events().count == 1)
            let application = try again.read { db in try Int32.fetchOne(db, sql: "PRAGMA application_id") }
            #expect(application == CatalogFile.applicationID)
        }
    }

    @Test func aCatalogFromANewerValkyrieIsRefusedUntouched() throws {
        try expectRefusedUntouched(
            after: "INSERT INTO catalog_migrations VALUES (5, '0005_future', 'abc', '2030-01-01T00:00:00.000000Z')",
            saying: ["0005_future", "newer valkyrie"])
    }

    @Test func aChangedMigrationChecksumIsRefusedUntouched() throws {
        try expectRefusedUntouched(after: "UPDATE catalog_migrations SET sha256 = 'deadbeef' WHERE version = 2",
                                   saying: ["0002_projections", "checksum"])
    }

    /// Changes the migration record of a new catalog with `sql`; opening it (even to create) must then fail
    /// with exit 2, naming the file and the migration, without changing a byte.
    private func expectRefusedUntouched(after sql: String, saying words: [String]) throws {
        try Fixture.withDirectory { dir in
            let path = try Fixture.catalog(dir).path
            try Fixture.raw(path).write { db in try db.execute(sql: sql) }
            let before = Fixture.bytes(path)
            let error = #expect(throws: OperatorError.self) { try Catalog.open(at: path, mode: .create) }
            #expect(error?.status == .usage)
            #expect(error?.problem.contains(path) == true)
            for word in words { #expect(error?.problem.contains(word) == true, "\(error?.problem ?? "")") }
            #expect(Fixture.bytes(path) == before)
        }
    }
}
