import Capture
import Foundation
import LibPQ
import Vaulthalla

/// The checks on the restored database: metadata and counts, sampled records, cost-control policy state.
struct DatabaseChecks {
    let matcher: RecordMatcher
    let database: VaulthallaDatabase
    let dump: DumpReader
    let version: VersionRecord
    let vaultIndexLines: Int

    /// schema_migrations matching the set's Vaulthalla version; counts of users, groups, roles, shares, vaults and files equal to capture.
    func metadata() -> CheckResult {
        let start = Date()
        var log = CheckLog()
        do {
            try migrations(&log)
            for (name, tables) in DatabaseSnapshot.countedTables {
                var total = 0
                for table in tables where try matcher.tableExists(table) { total += try matcher.count(table) }
                let recorded = version.counts[name]
                log.expect(recorded == total, "\(name): restored \(total), recorded at capture \(recorded.map(String.init) ?? "none")")
            }
            let vaults = try matcher.tableExists("vault") ? try matcher.count("vault") : 0
            log.expect(vaults == version.vaults.count, "vaults: restored \(vaults), recorded at capture \(version.vaults.count)")
            var files = 0
            for vault in version.vaults where try matcher.tableExists("files") { files += try database.files(vaultID: vault.id).count }
            log.expect(files == vaultIndexLines, "files: restored \(files), in the set's vault index \(vaultIndexLines)")
        } catch {
            log.fail("\(error)")
        }
        return log.result("database metadata", since: start)
    }

    /// The restored `schema_migrations` pins equal, file by file and sha256 by sha256, those the set's Vaulthalla
    /// version had applied and accepted at capture: that version's daemon starts on this database, no other does.
    private func migrations(_ log: inout CheckLog) throws {
        let made = version.vhVersion + (version.package.map { " (package \($0.version))" } ?? "")
        guard try matcher.tableExists("schema_migrations") else {
            log.fail("schema_migrations is missing from the restored database")
            return
        }
        let rows = try matcher.connection.query("SELECT filename, sha256 FROM schema_migrations ORDER BY filename")
        var restored: [String: String] = [:]
        for row in 0..<rows.count { restored[rows[row, "filename"] ?? ""] = rows[row, "sha256"] ?? "" }
        guard let recorded = version.schemaMigrations else {
            log.fail("the set's version record has no migration pins (made by an older Valkyrie): \(restored.count) restored "
                     + "migrations cannot be matched to \(made); take a new backup")
            return
        }
        let pinned = Dictionary(recorded.map { ($0.filename, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        var differing: [String] = []
        for (file, sha) in pinned.sorted(by: { $0.key < $1.key }) {
            guard let got = restored[file] else { differing.append("\(file) missing"); continue }
            if got != sha { differing.append("\(file) sha256 \(got.prefix(12))… restored, \(sha.prefix(12))… at capture") }
        }
        differing += restored.keys.filter { pinned[$0] == nil }.sorted().map { "\($0) not applied under \(made)" }
        let latest = pinned.keys.max() ?? "none"
        log.expect(differing.isEmpty, "schema_migrations: \(restored.count) restored, \(pinned.count) pinned at capture under \(made) "
            + "(latest \(latest)); " + (differing.isEmpty ? "every filename and sha256 equal"
                : "differ: \(differing.prefix(5).joined(separator: "; "))\(differing.count > 5 ? " and \(differing.count - 5) more" : "")"))
    }

    /// A random user, group, role assignment and share record of the dump present in the restored database with
    /// the same fields. Backup records no field values, so the reference is the set's dump read independently.
    func records() -> CheckResult {
        let start = Date()
        var log = CheckLog()
        for (kind, table) in [("user", "users"), ("group", "groups"), ("role assignment", "vault_role_assignments"),
                              ("share", "share_link")] {
            do {
                guard let rows = try dump.table(table) else {
                    log.fail("\(kind): table \(table) is not in the set's dump")
                    continue
                }
                guard let row = rows.rows.randomElement() else {
                    let restored = try matcher.tableExists(table) ? try matcher.count(table) : 0
                    log.expect(restored == 0, "\(kind): no \(table) rows in the dump, \(restored) restored")
                    continue
                }
                let shown = RecordMatcher.describe(columns: rows.columns, row: row)
                guard try matcher.tableExists(table) else {
                    log.fail("\(kind): table \(table) is missing from the restored database (dump row \(shown))")
                    continue
                }
                guard let differing = try matcher.differences(table: table, columns: rows.columns, row: row) else {
                    log.fail("\(kind): \(table) row \(rows.columns[0])=\(row[0] ?? "NULL") is missing from the restored database")
                    continue
                }
                log.expect(differing.isEmpty, "\(kind) \(table) {\(shown)}: "
                    + (differing.isEmpty ? "all \(rows.columns.count) fields equal to the dump" : "fields differ: \(differing.joined(separator: ", "))"))
            } catch {
                log.fail("\(kind): \(error)")
            }
        }
        log.pass("reference: the set's own dump read with pg_restore --data-only (backup records no field values)")
        return log.result("user, group, role and share records", since: start)
    }

    /// Price-budget policies and rsync budget columns equal to capture (count recorded by backup, rows from the
    /// dump), or absent on both sides for hosts whose version has none.
    func costControl() -> CheckResult {
        let start = Date()
        var log = CheckLog()
        do {
            let recorded = version.counts["cost_control_policies"] ?? 0
            if try matcher.tableExists("s3_price_budget_policy") {
                let restored = try matcher.count("s3_price_budget_policy")
                log.expect(restored == recorded, "s3_price_budget_policy: \(restored) policies restored, \(recorded) recorded at capture")
                try compareAll(table: "s3_price_budget_policy", columns: nil, log: &log)
            } else {
                let inDump = try dump.table("s3_price_budget_policy") != nil
                log.expect(recorded == 0 && !inDump, "s3_price_budget_policy absent (recorded \(recorded) at capture\(inDump ? ", but the dump has it" : ""))")
            }
            if try matcher.tableExists("rsync") {
                let budget = try matcher.types("rsync").keys.filter { $0.hasPrefix("s3_budget_") }.sorted()
                if budget.isEmpty {
                    log.pass("rsync has no budget columns (this Vaulthalla version has none)")
                } else {
                    try compareAll(table: "rsync", columns: ["sync_id"] + budget, log: &log)
                }
            } else {
                log.pass("rsync absent (this Vaulthalla version has none)")
            }
        } catch {
            log.fail("\(error)")
        }
        return log.result("cost-control policy state", since: start)
    }

    /// Every dump row of `table` (its `columns`, or all) equal in the restored database.
    private func compareAll(table: String, columns: [String]?, log: inout CheckLog) throws {
        guard let rows = try dump.table(table) else {
            log.fail("\(table) is not in the set's dump")
            return
        }
        let wanted = columns ?? rows.columns
        let positions = wanted.compactMap { rows.columns.firstIndex(of: $0) }
        guard positions.count == wanted.count else {
            log.fail("\(table): the dump lacks columns \(wanted.filter { !rows.columns.contains($0) }.joined(separator: ", "))")
            return
        }
        var mismatched: [String] = []
        for row in rows.rows {
            let values = positions.map { row[$0] }
            let differing = try matcher.differences(table: table, columns: wanted, row: values)
            if differing != [] { mismatched.append("\(wanted[0])=\(values[0] ?? "NULL")" + (differing.map { ": \($0.joined(separator: ", "))" } ?? " missing")) }
        }
        log.expect(mismatched.isEmpty, "\(table) (\(wanted.joined(separator: ", "))): \(rows.rows.count) rows of the dump, "
            + (mismatched.isEmpty ? "all equal when restored" : "differ: \(mismatched.prefix(5).joined(separator: "; "))"))
    }
}
