import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

/// `find`'s query plans, on which the benchmark's find row rests: one statement per index, a lookup in the name
/// index for a fixed last part (a bare name), a range search of the path index for a literal prefix, a read of the
/// index (never of the sets) for the rest.
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

    /// A bare name (`*/config.yaml`, or `/etc/**/config.yaml`) is one lookup in the name index; only a pattern
    /// without a fixed name or literal prefix (`*conf*`) reads the index once.
    @Test func fixedNamesSearchTheNameIndex() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let set = "SEARCH s USING INDEX sqlite_autoindex_sets_3 (host=? AND ordinal>? AND ordinal<?)"
            for pattern in ["*/config.yaml", "/etc/**/config.yaml", "/etc/*/config.yaml"] {
                let (byName, arguments) = FindSQL.leading(pattern)
                #expect(byName && arguments == ["config.yaml", pattern])
                #expect(try Self.plan(catalog, FindSQL.files("", byName: true), arguments)
                    == ["SEARCH f USING INDEX file_index_by_name (name=?)", set])
            }
            let (_, q3) = FindSQL.leading("*/q3.xlsx")
            #expect(try Self.plan(catalog, FindSQL.vaultFiles(" AND v.vault = ?", oneVault: true, byName: true), q3 + ["finance"])
                == ["SEARCH v USING INDEX vault_index_by_name (name=? AND vault=?)", set])
            #expect(try Self.plan(catalog, FindSQL.vaultFiles("", oneVault: false, byName: true), q3)
                == ["SEARCH v USING INDEX vault_index_by_name (name=?)", set])
            let scoped = FindScope(set: nil, since: Date(timeIntervalSince1970: 0)).sql
            #expect(try Self.plan(catalog, FindSQL.files(scoped.0, byName: true), ["config.yaml", "*/config.yaml"] + scoped.1).first
                == "SEARCH f USING INDEX file_index_by_name (name=?)")
            let files = try Self.plan(catalog, FindSQL.files(""), ["*conf*"])
            #expect(files.count == 2 && files[0].hasPrefix("SCAN f") && files[1].hasPrefix("SEARCH s USING INDEX"), "\(files)")
        }
    }

    /// Which patterns fix the name: a last part without wildcards, in a pattern that has one elsewhere.
    @Test func fixedNamesOfPatterns() {
        let fixed: [String: String?] = [
            "*/config.yaml": "config.yaml", "/etc/**/config.yaml": "config.yaml", "*/Привет мир.txt": "Привет мир.txt",
            "/2026/q3*": nil, "*/config.*": nil, "*/a[1].txt": nil, "*/what?.txt": nil, "*/x]": nil, "*conf*": nil,
            "/etc/vaulthalla/config.yaml": nil, "config.yaml": nil, "*/": "", "[/]config.yaml": nil,
        ]
        for (pattern, name) in fixed { #expect(GlobPattern.fixedName(pattern) == name, "\(pattern)") }
    }

    /// Through the name index or not, every pattern finds exactly what SQLite's GLOB over all paths finds,
    /// also for names holding GLOB's own characters and for the root.
    @Test func findByNameEqualsAFullGlob() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            var contents = MemoryContents()
            let paths = ["/", "/etc", "/etc/vaulthalla", "/etc/vaulthalla/config.yaml", "/etc/config.yaml", "/etc/config.yaml.bak",
                         "/etc/vaulthalla/conf.d/config.yaml", "/srv/a[1].txt", "/srv/a1.txt", "/srv/what?.txt", "/srv/whatx.txt",
                         "/srv/star*.txt", "/srv/x]", "/srv/Привет мир.txt", "/config.yaml"]
            let vaultPaths = ["/", "/2026", "/2026/q3.xlsx", "/2026/q3.xlsx.old", "/q3.xlsx", "/2026/[q]3.xlsx", "/archive/2026/q3.xlsx"]
            var sets: [SetRecord] = []
            for n in 1...3 {
                let set = try Fixture.completedSet(catalog, minutes: Double(n))
                contents.files[set.name] = ["etc": paths.map { MemoryContents.file($0, "\($0)-\(n / 2)", kind: $0.contains(".") ? .file : .directory) }]
                contents.vault[set.name] = vaultPaths.map { MemoryContents.vaultFile("finance", $0, "\($0)-\(n / 3)") }
                    + vaultPaths.prefix(3).map { MemoryContents.vaultFile("Team Ünterlagen", $0, "t\($0)") }
                try catalog.index(set, from: contents)
                sets.append(set)
            }
            let names = try catalog.read { db in
                try Row.fetchAll(db, sql: "SELECT DISTINCT path, name FROM file_index UNION SELECT DISTINCT path, name FROM vault_index")
                    .map { [$0[0] as String, $0[1] as String] }
            }
            for pair in names { #expect(pair[1] == (pair[0] == "/" ? "" : String(pair[0].split(separator: "/").last!)), "\(pair)") }

            /// What the statement without the name index returns (the whole index read, GLOB applied to every path).
            func fullGlob(_ pattern: String, vault: String? = nil, scope: FindScope = FindScope()) throws -> ([String], [String]) {
                var (extra, arguments) = scope.sql
                let files = try catalog.read { db in
                    try Row.fetchAll(db, sql: FindSQL.files(extra), arguments: [pattern] + arguments, adapter: setAndRest)
                        .map { "\($0.scopes["rest"]!["path"] as String)@\($0.scopes["set"]!["name"] as String)" }
                }
                if let vault { extra = " AND v.vault = ?" + extra; arguments = [vault] + arguments }
                let sql = FindSQL.vaultFiles(extra, oneVault: vault != nil)
                let vaultFiles = try catalog.read { db in
                    try Row.fetchAll(db, sql: sql, arguments: [pattern] + arguments, adapter: setAndRest)
                        .map { "\($0.scopes["rest"]!["vault"] as String):\($0.scopes["rest"]!["path"] as String)@\($0.scopes["set"]!["name"] as String)" }
                }
                return (files, vaultFiles)
            }
            func found(_ pattern: String, vault: String? = nil, scope: FindScope = FindScope()) throws -> ([String], [String]) {
                (try catalog.find(glob: pattern, scope: scope).flatMap { found in found.sets.map { "\(found.file.entry.path)@\($0.name)" } },
                 try catalog.findVaultFiles(glob: pattern, vault: vault, scope: scope)
                    .flatMap { found in found.sets.map { "\(found.file.entry.vault):\(found.file.entry.path)@\($0.name)" } })
            }
            let patterns = ["*/config.yaml", "/etc/**/config.yaml", "/etc/*/config.yaml", "*/a[1].txt", "*/what?.txt", "*/star*.txt",
                            "*/x]", "*/Привет мир.txt", "*/q3.xlsx", "/2026/*", "/2026/q3*", "*/[[]q]3.xlsx", "*/", "/", "*conf*",
                            "/etc/vaulthalla/config.yaml", "*/nothing.here"]
            for pattern in patterns {
                let expected = try fullGlob(pattern)
                #expect(try found(pattern) == expected, "\(pattern)")
                #expect(try found(pattern, vault: "finance").1 == (try fullGlob(pattern, vault: "finance")).1, "\(pattern) in finance")
                for scope in [FindScope(set: sets[1]), FindScope(since: sets[2].startedAt)] {
                    #expect(try found(pattern, scope: scope) == (try fullGlob(pattern, scope: scope)), "\(pattern) \(scope)")
                }
            }
            // A sample of the answers themselves, so the comparison above is not between two empty lists.
            #expect(try found("*/config.yaml").0.count == 4 * 3)
            #expect(try found("*/a[1].txt").0 == sets.map { "/srv/a1.txt@\($0.name)" })
            #expect(try found("*/q3.xlsx").1.count == 3 * 3 + 3)
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

    /// `log --set/--type/--since` (with `--limit` too), the chain's head and `show`'s restores, exports and drill
    /// checks each search their index.
    @Test func logAndShowSearchTheirIndexes() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            func log(_ filter: EventFilter) throws -> [String] {
                let (sql, arguments) = Queries.events(filter)
                return try Self.plan(catalog, sql, arguments).filter { !$0.hasPrefix("SCAN (subquery") && !$0.hasPrefix("CO-ROUTINE") }
            }
            let since = Date(timeIntervalSince1970: 1_795_000_000)
            for limit in [nil, 100] {
                #expect(try log(EventFilter(set: UUID(), limit: limit)) == ["SEARCH events USING INDEX events_by_set (set_id=?)"])
                #expect(try log(EventFilter(type: .backupCompleted, limit: limit)) == ["SEARCH events USING INDEX events_by_type (type=?)"])
                #expect(try log(EventFilter(since: since, limit: limit)) == ["SEARCH events USING INDEX events_by_time (occurred_at>?)"])
                #expect(try log(EventFilter(type: .fileRestored, since: since, limit: limit)).allSatisfy { $0.hasPrefix("SEARCH events USING INDEX") })
            }
            #expect(try Self.plan(catalog, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", []) == ["SCAN events"])
            // Restores are read from the log (migration 0007): through the set indexes of both chains' events.
            let restores = try Self.plan(catalog, Queries.restores(" AND set_id = ?") + " ORDER BY seq, chain", ["S", "S"])
            #expect(restores.contains("SEARCH events USING INDEX events_by_set (set_id=?)")
                && restores.contains("SEARCH peer_events USING INDEX peer_events_by_set (set_id=?)")
                && !restores.contains { $0.hasPrefix("SCAN") }, "\(restores)")
            #expect(try Self.plan(catalog, "SELECT * FROM exports WHERE set_id = ? ORDER BY seq", ["S"])
                == ["SEARCH exports USING INDEX exports_by_set (set_id=?)"])
            #expect(try Self.plan(catalog, "SELECT * FROM drill_checks WHERE drill_id = ? ORDER BY seq", ["D"])
                == ["SEARCH drill_checks USING INDEX drill_checks_by_drill (drill_id=?)"])
        }
    }
}
