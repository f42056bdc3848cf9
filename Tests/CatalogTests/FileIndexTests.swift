import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

@Suite struct FileIndexTests {
    /// 300 sets of one host: config.yaml never changes, changing.txt changes every 100 sets, gone.txt exists in
    /// sets 1-10 only; set 150 failed (never indexed); a vault file changes at set 200.
    private func threeHundredSets(_ catalog: Catalog) throws -> ([SetRecord], MemoryContents) {
        var contents = MemoryContents(), sets: [SetRecord] = []
        for n in 1...300 {
            if n == 150 {
                let failed = try catalog.startSet(host: "vh1", startedAt: Fixture.start.addingTimeInterval(Double(n) * 60),
                                                  valkyrieVersion: "0.1.0", items: ["etc"])
                try catalog.append(BackupFailed(set: failed.id, error: "disk full"))
                continue
            }
            let set = try Fixture.completedSet(catalog, minutes: Double(n))
            var entries = [
                MemoryContents.file("/etc", "dir-etc", kind: .directory),
                MemoryContents.file("/etc/vaulthalla", "dir-vh", kind: .directory),
                MemoryContents.file("/etc/vaulthalla/config.yaml", "config-1"),
                MemoryContents.file("/etc/vaulthalla/changing.txt", "changing-\((n - 1) / 100)"),
            ]
            if n <= 10 { entries.append(MemoryContents.file("/etc/vaulthalla/gone.txt", "gone")) }
            contents.files[set.name] = ["etc": entries]
            contents.vault[set.name] = [MemoryContents.vaultFile("finance", "/2026/q3.xlsx", n < 200 ? "q3-a" : "q3-b")]
            try catalog.index(set, from: contents)
            sets.append(set)
        }
        return (sets, contents)
    }

    @Test func unchangedPathsAreOneRowAcrossSets() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let (sets, _) = try threeHundredSets(catalog)
            let config = try catalog.history(of: "/etc/vaulthalla/config.yaml")
            #expect(config.count == 1)
            #expect(config.first.map { ($0.firstOrdinal, $0.lastOrdinal) } ?? (0, 0) == (1, 300))
            let changing = try catalog.history(of: "/etc/vaulthalla/changing.txt")
            #expect(changing.map(\.entry.version) == ["changing-0", "changing-1", "changing-2"])
            #expect(changing.map { [$0.firstOrdinal, $0.lastOrdinal] } == [[1, 100], [101, 200], [201, 300]])
            let rows = try catalog.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM file_index") }
            #expect(rows == 2 + 1 + 3 + 1)

            // The failed set 150 lies inside the ranges but holds nothing.
            let holding = try catalog.setsHolding(path: "/etc/vaulthalla/config.yaml")
            #expect(holding.count == 299)
            #expect(holding.map(\.set) == sets)
            #expect(try catalog.setsHolding(path: "/etc/vaulthalla/gone.txt").map(\.set.ordinal) == Array(1...10))
            #expect(try catalog.setsHolding(path: "/etc/vaulthalla/changing.txt").filter { $0.file.entry.version == "changing-1" }.count == 99)
        }
    }

    @Test func directoryListingsAndLookupsPerSet() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let (sets, _) = try threeHundredSets(catalog)
            let fifth = sets[4], late = sets[200]
            #expect(try catalog.listDirectory("/etc/vaulthalla", in: fifth).map(\.entry.path)
                    == ["/etc/vaulthalla/changing.txt", "/etc/vaulthalla/config.yaml", "/etc/vaulthalla/gone.txt"])
            let listing = try catalog.listDirectory("/etc/vaulthalla", in: late)
            #expect(listing.map(\.entry.path) == ["/etc/vaulthalla/changing.txt", "/etc/vaulthalla/config.yaml"])
            #expect(listing[0].entry.version == "changing-2" && listing[0].item == "etc")
            #expect(try catalog.listDirectory("/", in: late).map(\.entry.path) == ["/etc"])
            #expect(try catalog.file("/etc/vaulthalla/gone.txt", in: late) == nil)
            #expect(try catalog.file("/etc/vaulthalla/config.yaml", in: late)?.entry.node == "node-config-1")

            let vault = try catalog.vaultHistory(vault: "finance", path: "/2026/q3.xlsx")
            #expect(vault.map { [$0.firstOrdinal, $0.lastOrdinal] } == [[1, 199], [200, 300]])
            #expect(vault[1].entry == MemoryContents.vaultFile("finance", "/2026/q3.xlsx", "q3-b"))
            #expect(try catalog.setsHolding(vault: "finance", path: "/2026/q3.xlsx").count == 299)
            #expect(try catalog.listVaultDirectory(vault: "finance", "/2026", in: fifth).map(\.entry.version) == ["q3-a"])
        }
    }

    @Test func incrementalIndexEqualsRebuiltIndex() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            var contents = MemoryContents()
            var sets: [SetRecord] = []
            for n in 1...6 {
                let set = try Fixture.completedSet(catalog, host: n % 2 == 0 ? "vh2" : "vh1", minutes: Double(n), items: ["etc", "var-lib"])
                contents.files[set.name] = [
                    "etc": [MemoryContents.file("/etc/vaulthalla/a", "a-\(n / 3)")],
                    "var-lib": [MemoryContents.file("/var/lib/vaulthalla/b", "b"), MemoryContents.file("/var/lib/vaulthalla/c\(n)", "c")],
                ]
                contents.vault[set.name] = [MemoryContents.vaultFile("v", "/x", "x-\(n / 4)")]
                sets.append(set)
            }
            // Index out of order: vh1's third set before its second, which makes the host re-derive.
            for index in [0, 1, 4, 3, 2, 5] { try catalog.index(sets[index], from: contents) }
            try catalog.index(sets[0], from: contents)  // again: nothing changes
            let tables = ["file_index", "vault_index", "indexed_sets"]
            let incremental = try tables.map { try Fixture.rows(catalog, $0) }
            let report = try catalog.rebuild(contents: contents)
            #expect(report.contentIndexes == "rebuilt")
            #expect(try tables.map { try Fixture.rows(catalog, $0) } == incremental)
            #expect(report.fileIndexRows == incremental[0].count)
            #expect(try catalog.history(of: "/var/lib/vaulthalla/b").map { [$0.firstOrdinal, $0.lastOrdinal] } == [[1, 3], [1, 3]])
        }
    }

    @Test func onlyListedSetsAreIndexed() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let running = try catalog.startSet(host: "vh1", startedAt: Fixture.start, valkyrieVersion: "0.1.0", items: [])
            #expect(throws: OperatorError.self) { try catalog.index(running, from: MemoryContents()) }
            let done = try Fixture.completedSet(catalog, minutes: 5)
            let bad = MemoryContents(files: [done.name: ["etc": [MemoryContents.file("relative/path", "v")]]])
            #expect(throws: OperatorError.self) { try catalog.index(done, from: bad) }
            #expect(try Fixture.rows(catalog, "file_index").isEmpty)
        }
    }

    /// "Which sets hold PATH", "list directory D in set S" and "history of PATH" are each one indexed query.
    @Test func queryPlansUseTheIndexes() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let plans: [(String, [String])] = [
                (ContentSQL.setsHoldingFile, ["SEARCH f USING INDEX file_index_by_path (path=?)", "SEARCH s USING INDEX sqlite_autoindex_sets_3 (host=? AND ordinal>? AND ordinal<?)"]),
                (ContentSQL.listDirectory, ["SEARCH file_index USING INDEX file_index_by_parent (host=? AND parent=? AND first_ordinal<?)"]),
                (ContentSQL.fileInSet, ["SEARCH file_index USING INDEX file_index_by_path (path=? AND host=? AND first_ordinal<?)"]),
                (ContentSQL.fileHistory, ["SEARCH file_index USING INDEX file_index_by_path (path=?)"]),
                (ContentSQL.setsHoldingVaultFile, ["SEARCH v USING INDEX vault_index_by_path (vault=? AND path=?)", "SEARCH s USING INDEX sqlite_autoindex_sets_3 (host=? AND ordinal>? AND ordinal<?)"]),
                (ContentSQL.listVaultDirectory, ["SEARCH vault_index USING INDEX vault_index_by_parent (host=? AND vault=? AND parent=? AND first_ordinal<?)"]),
                (ContentSQL.vaultHistory, ["SEARCH vault_index USING INDEX vault_index_by_path (vault=? AND path=?)"]),
            ]
            for (sql, expected) in plans {
                let plan = try catalog.read { db in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(
                        Array(repeating: "x", count: sql.filter { $0 == "?" }.count))).map { $0["detail"] as String }
                }
                #expect(plan.filter { !$0.hasPrefix("USE TEMP B-TREE") } == expected, "\(sql)")
                #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(plan)")
            }
        }
    }
}
