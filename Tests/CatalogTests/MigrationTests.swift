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
        #expect(files == ["0001_events.sql", "0002_projections.sql", "0003_content_indexes.sql", "0004_chains.sql",
                          "0005_path_names.sql", "0006_keyed_projections.sql", "0007_restores_from_log.sql"])
        #expect(Migrator.bundled.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
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

    /// A catalog from before migration 0005 (index rows without names) opens, `.reading` too: every row gets its
    /// name, `find` by name answers from them, and the chain verifies as before.
    @Test func pathNamesAreFilledInAnOlderCatalog() throws {
        for mode in [Catalog.OpenMode.existing, .reading] {
            try Fixture.withDirectory { dir in
                let catalog = try Fixture.catalog(dir)
                var contents = MemoryContents()
                let set = try Fixture.completedSet(catalog, minutes: 1)
                contents.files[set.name] = ["etc": ["/", "/etc", "/etc/vaulthalla", "/etc/vaulthalla/config.yaml", "/srv/Привет мир.txt"]
                    .map { MemoryContents.file($0, "v-\($0)") }]
                contents.vault[set.name] = ["/", "/2026", "/2026/q3.xlsx"].map { MemoryContents.vaultFile("finance", $0, "q-\($0)") }
                try catalog.index(set, from: contents)
                let names = "SELECT path, name FROM file_index UNION ALL SELECT path, name FROM vault_index ORDER BY 1, 2"
                let expected = try catalog.read { db in try Row.fetchAll(db, sql: names).map { "\($0[0] as String)=\($0[1] as String)" } }
                #expect(expected == ["/=", "/=", "/2026=2026", "/2026/q3.xlsx=q3.xlsx", "/etc=etc", "/etc/vaulthalla=vaulthalla",
                                     "/etc/vaulthalla/config.yaml=config.yaml", "/srv/Привет мир.txt=Привет мир.txt"])
                // Back to what migrations 0001-0004 left.
                try Fixture.raw(catalog.path).write { db in
                    try db.execute(sql: """
                        DROP INDEX file_index_by_name; DROP INDEX vault_index_by_name;
                        ALTER TABLE file_index DROP COLUMN name; ALTER TABLE vault_index DROP COLUMN name;
                        DELETE FROM catalog_migrations WHERE version = 5
                        """)
                }
                let reopened = try Catalog.open(at: catalog.path, mode: mode)
                #expect(try reopened.settings().migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
                #expect(try reopened.read { db in try Row.fetchAll(db, sql: names).map { "\($0[0] as String)=\($0[1] as String)" } } == expected)
                #expect(try reopened.find(glob: "*/config.yaml").map(\.file.entry.path) == ["/etc/vaulthalla/config.yaml"])
                #expect(try reopened.findVaultFiles(glob: "*/q3.xlsx").map(\.file.entry.path) == ["/2026/q3.xlsx"])
                #expect(try reopened.verifyChain().ok)
            }
        }
    }

    /// A catalog from before migration 0006 (exports, drill checks and restores as rowid tables) opens, `.reading`
    /// too: exports and drill checks are stored by their (chain, seq) key with the same rows and indexes, the set
    /// details (restores read from the log since 0007) and the chain are as before, and rebuilding and appending
    /// work on them.
    @Test func keyedProjectionsMoveIntoTheirKeyOrder() throws {
        let tables = ["exports", "drill_checks", "restores"], keyed = ["exports", "drill_checks"]
        for mode in [Catalog.OpenMode.existing, .reading] {
            try Fixture.withDirectory { dir in
                let catalog = try Fixture.catalog(dir)
                let sets = try Fixture.history(catalog)
                let rows = try keyed.map { try Fixture.rows(catalog, $0) }
                #expect(rows.allSatisfy { !$0.isEmpty })
                let details = try sets.map { try catalog.details(of: $0) }
                #expect(try Self.withoutRowid(catalog, keyed) == keyed)
                try Self.undoRestoresFromLog(catalog.path)
                #expect(try Self.withoutRowid(catalog, tables) == tables)
                // Back to what migrations 0001-0005 left: the same tables with a rowid.
                try Fixture.raw(catalog.path).write { db in
                    for table in tables {
                        let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = ?", arguments: [table])!
                        let indexes = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                                                          arguments: [table])
                        try db.execute(sql: create.replacingOccurrences(of: ", WITHOUT ROWID", with: "")
                            .replacingOccurrences(of: "CREATE TABLE \"\(table)\"", with: "CREATE TABLE old")
                            .replacingOccurrences(of: "CREATE TABLE \(table)", with: "CREATE TABLE old"))
                        try db.execute(sql: "INSERT INTO old SELECT * FROM \(table); DROP TABLE \(table); ALTER TABLE old RENAME TO \(table)")
                        for index in indexes { try db.execute(sql: index) }
                    }
                    try db.execute(sql: "DELETE FROM catalog_migrations WHERE version = 6")
                }
                #expect(try Self.withoutRowid(catalog, tables).isEmpty)
                let reopened = try Catalog.open(at: catalog.path, mode: mode)
                #expect(try reopened.settings().migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
                #expect(try Self.withoutRowid(reopened, keyed) == keyed)
                #expect(try keyed.map { try Fixture.rows(reopened, $0) } == rows)
                #expect(try sets.map { try reopened.details(of: $0) } == details)
                #expect(try reopened.read { db in
                    try String.fetchAll(db, sql: """
                        SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL
                            AND tbl_name IN ('exports', 'drill_checks', 'restores') ORDER BY name
                        """)
                } == ["drill_checks_by_drill", "exports_by_set"])
                #expect(try reopened.verifyChain().ok)
                try reopened.rebuild()
                #expect(try keyed.map { try Fixture.rows(reopened, $0) } == rows)
                try reopened.append(FileRestored(set: sets[0].id, path: "/etc/hosts", target: "/tmp/r", size: 1, digest: "d"))
                #expect(try reopened.details(of: sets[0]).restores.count == details[0].restores.count + 1)
            }
        }
    }

    /// A catalog from before migration 0007 (restores copied into a table by the appends) opens, `.reading` too:
    /// the table is gone and a set's restores, read from the log, are the rows it held, this catalog's and another
    /// host's copied chain's, file and key restores alike, in seq order; what is appended after shows too, and a
    /// rebuild counts the same restores.
    @Test func restoresAreReadFromTheLog() throws {
        for mode in [Catalog.OpenMode.existing, .reading] {
            try Fixture.withDirectory { dir in
                let mine = try Fixture.catalog(dir, name: "mine.db")
                let sets = try Fixture.history(mine)
                // Another host's chain with a file restore of one of this catalog's sets, copied in beside.
                let theirs = try Fixture.catalog(dir, name: "theirs.db")
                try theirs.append(FileRestored(set: sets[0].id, item: "var-lib", path: "/var/lib/x", vault: "v1", target: "/tmp/y",
                                               size: 3, digest: "d3"))
                let catalog = try Fixture.catalog(dir)
                try catalog.importChains(own: try mine.chainEvents(after: 0), peers: [try theirs.chainEvents(after: 0)])
                let details = try sets.map { try catalog.details(of: $0) }
                let restores = details[0].restores
                #expect(restores.map(\.kind) == [.file, .file, .key] && restores.map(\.seq) == [1, 12, 13])
                #expect(restores.map(\.path) == ["/var/lib/x", "/etc/vaulthalla/config.yaml", nil])
                #expect(restores.map(\.vault) == ["v1", nil, "v1"] && restores.map(\.size) == [3, 10, nil])
                #expect(restores.map(\.recipients) == [[], [], ["FPR2"]] && restores.map(\.item) == ["var-lib", "etc", nil])
                #expect(restores.allSatisfy { $0.target != nil || $0.kind == .key })
                #expect(details.dropFirst().allSatisfy { $0.restores.isEmpty })
                let table = try Self.undoRestoresFromLog(catalog.path)
                #expect(table.count == 3)
                let reopened = try Catalog.open(at: catalog.path, mode: mode)
                #expect(try reopened.settings().migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
                #expect(try reopened.read { db in try db.tableExists("restores") } == false)
                #expect(try sets.map { try reopened.details(of: $0) } == details)
                #expect(try reopened.rebuild().restores == 3)
                try reopened.append(KeyExtracted(set: sets[1].id, vault: "v2", keyVersion: 1, recipients: ["A", "B"]))
                #expect(try reopened.details(of: sets[1]).restores.map(\.recipients) == [["A", "B"]])
            }
        }
    }

    /// Back to what migrations 0001-0006 left: a `restores` table keyed by (chain, seq) holding every restore, as the
    /// appends filled it. Returns its rows.
    @discardableResult
    private static func undoRestoresFromLog(_ path: String) throws -> [Row] {
        let create = try #require(Migrator.bundled.first { $0.version == 6 }?.sql.components(separatedBy: "CREATE TABLE restores_v6").last?
            .components(separatedBy: ";").first)
        return try Fixture.raw(path).write { db in
            try db.execute(sql: """
                CREATE TABLE restores \(create);
                INSERT INTO restores \(Queries.restores(""));
                CREATE INDEX restores_by_set ON restores (set_id, seq);
                DROP INDEX peer_events_by_set;
                DELETE FROM catalog_migrations WHERE version = 7
                """)
            return try Row.fetchAll(db, sql: "SELECT * FROM restores")
        }
    }

    /// Which of `tables` are WITHOUT ROWID tables.
    private static func withoutRowid(_ catalog: Catalog, _ tables: [String]) throws -> [String] {
        try catalog.read { db in
            try tables.filter { table in
                try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = ?", arguments: [table])?.hasSuffix("WITHOUT ROWID") == true
            }
        }
    }

    /// `.reading` opens one read-only connection: it reads while another process holds the write lock, and
    /// writes nothing (the file's bytes stay the same).
    @Test func readersNeverTakeTheWriteLock() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            try catalog.close()
            let before = Fixture.bytes(catalog.path)
            let holder = try Fixture.raw(catalog.path)
            try holder.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                defer { try? db.execute(sql: "ROLLBACK") }
                let reader = try Catalog.open(at: catalog.path, mode: .reading)
                #expect(try reader.sets().count == 3)
                #expect(try reader.events().count > 10)
                #expect(try reader.find(glob: "*/config.yaml").isEmpty)
                try reader.close()
            }
            #expect(Fixture.bytes(catalog.path) == before)
        }
    }

    @Test func aCatalogFromANewerValkyrieIsRefusedUntouched() throws {
        try expectRefusedUntouched(
            after: "INSERT INTO catalog_migrations VALUES (9999, '9999_future', 'abc', '2030-01-01T00:00:00.000000Z')",
            saying: ["9999_future", "newer valkyrie"])
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
