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
            #expect(try Self.plan(catalog, FindSQL.vaultFiles(" AND v.vault = ?"), ["/2026/q3*", "finance"])
                == ["SEARCH v USING INDEX vault_index_by_path (vault=? AND path>? AND path<?)", set])
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
            let vaults = try Self.plan(catalog, FindSQL.vaultFiles(""), ["*/q3.xlsx"])
            #expect(vaults.count == 2 && vaults[0].hasPrefix("SCAN v") && vaults[1].hasPrefix("SEARCH s USING INDEX"), "\(vaults)")
        }
    }
}
