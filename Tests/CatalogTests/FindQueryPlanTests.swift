import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

/// `find`'s query plans, on which the benchmark's find row rests: one statement per index, a range search of the
/// path index for a pattern with a literal prefix, a read of the index (never of the sets) for a bare name.
@Suite struct FindQueryPlanTests {
    static func plan(_ catalog: Catalog, _ sql: String, _ arguments: StatementArguments) throws -> [String] {
        try catalog.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
                .filter { !$0.hasPrefix("USE TEMP B-TREE") }
        }
    }

    @Test func literalPrefixesSearchThePathIndex() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let set = "SEARCH s USING INDEX sqlite_autoindex_sets_3 (host=? AND ordinal>? AND ordinal<?)"
            #expect(try Self.plan(catalog, FindSQL.files(""), ["/etc/vaulthalla/config.yaml"])
                == ["SEARCH f USING INDEX file_index_by_path (path>? AND path<?)", set])
            #expect(try Self.plan(catalog, FindSQL.files(""), ["/etc/vaulthalla/*.yaml"])
                == ["SEARCH f USING INDEX file_index_by_path (path>? AND path<?)", set])
            #expect(try Self.plan(catalog, FindSQL.vaultFiles(" AND v.vault = ?", oneVault: true), ["/2026/q3*", "finance"])
                == ["SEARCH v USING INDEX vault_index_by_path (vault=? AND path>? AND path<?)", set])
            // Across vaults: the names by one index seek each, then the same range search per vault.
            let across = try Self.plan(catalog, FindSQL.vaultFiles("", oneVault: false), ["/2026/q3*"])
            #expect(across.first == "SEARCH v USING INDEX vault_index_by_path (vault=? AND path>? AND path<?)" && across.last == set, "\(across)")
            #expect(across.filter { $0.contains("vault_index") }.allSatisfy { $0.hasPrefix("SEARCH") }, "\(across)")
            // --set and --since add conditions on the set, not another pass over the index.
            let scoped = FindScope(set: nil, since: Date(timeIntervalSince1970: 0)).sql
            #expect(try Self.plan(catalog, FindSQL.files(scoped.0), ["/etc/*"] + scoped.1).first
                == "SEARCH f USING INDEX file_index_by_path (path>? AND path<?)")
        }
    }

    @Test func bareNamesReadTheIndexOnce() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let files = try Self.plan(catalog, FindSQL.files(""), ["*/config.yaml"])
            #expect(files.count == 2 && files[0].hasPrefix("SCAN f") && files[1].hasPrefix("SEARCH s USING INDEX"), "\(files)")
            let vaults = try Self.plan(catalog, FindSQL.vaultFiles(" AND v.vault = ?", oneVault: true), ["*/q3.xlsx", "finance"])
            #expect(vaults == ["SEARCH v USING INDEX vault_index_by_path (vault=?)", "SEARCH s USING INDEX sqlite_autoindex_sets_3 (host=? AND ordinal>? AND ordinal<?)"], "\(vaults)")
        }
    }

    /// What the plans above answer: every vault's matches (the walk over vault names misses none), one row per
    /// version with the sets holding it, and --vault, --set, --since narrowing them.
    @Test func findAnswersAcrossVaultsAndSets() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            var contents = MemoryContents()
            var sets: [SetRecord] = []
            for n in 1...3 {
                let set = try Fixture.completedSet(catalog, minutes: Double(n))
                contents.files[set.name] = ["etc": [MemoryContents.file("/etc/vaulthalla/config.yaml", "c-\(n / 3)")]]
                contents.vault[set.name] = [MemoryContents.vaultFile("finance", "/2026/q3.xlsx", "q3-\(n / 2)"),
                                            MemoryContents.vaultFile("Team Ünterlagen", "/2026/q3 plan.md", "plan"),
                                            MemoryContents.vaultFile("archive", "/2025/old.txt", "old")]
                try catalog.index(set, from: contents)
                sets.append(set)
            }
            let q3 = try catalog.findVaultFiles(glob: "/2026/q3*")
            #expect(q3.map { "\($0.file.entry.vault):\($0.file.entry.version):\($0.sets.count)" }
                == ["Team Ünterlagen:plan:3", "finance:q3-0:1", "finance:q3-1:2"])
            #expect(try catalog.findVaultFiles(glob: "*/old.txt").map(\.file.entry.vault) == ["archive"])
            #expect(try catalog.findVaultFiles(glob: "/2026/*", vault: "finance").map(\.file.entry.version) == ["q3-0", "q3-1"])
            #expect(try catalog.findVaultFiles(glob: "/2026/*", vault: "finance", scope: FindScope(set: sets[0])).map(\.sets.count) == [1])
            let config = try catalog.find(glob: "/etc/vaulthalla/*")
            #expect(config.map { "\($0.file.entry.version):\($0.sets.map(\.name))" }
                == ["c-0:\(sets[0...1].map(\.name))", "c-1:\([sets[2].name])"])
            #expect(try catalog.find(glob: "/etc/vaulthalla/*", scope: FindScope(since: sets[2].startedAt)).map(\.file.entry.version) == ["c-1"])
            #expect(try catalog.find(glob: "/var/*").isEmpty)
        }
    }
}
