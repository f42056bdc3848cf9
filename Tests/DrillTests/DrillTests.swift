import Catalog
import Drill
import Foundation
import Repository
import Support
import Synchronization
import Testing

/// Drills of a good tiny-host set and of sets broken on purpose, in-process against the real scratch PostgreSQL
/// and swtpm. One after another: each drill starts its own cluster, and the machine is small.
@Suite(.serialized) struct DrillTests {
    static let shared = Task { try await DrillFixture() }
    static let testCount = 11
    static let finished = Mutex(0)

    static func fixture() async throws -> DrillFixture { try await shared.value }

    /// Runs a test's body; the last test to finish (passed or not) removes the lab host.
    static func counted(_ body: () async throws -> Void) async throws {
        do { try await body() } catch { await done(); throw error }
        await done()
    }

    static func done() async {
        let all = finished.withLock { count in
            count += 1
            return count == testCount
        }
        if all, let fixture = try? await shared.value { fixture.destroy() }
    }

    static func settings(sample: Int = 3) throws -> DrillSettings {
        DrillSettings(postgresBinDirectory: try DrillFixture.require("VALKYRIE_TEST_PGBIN"),
                      gnupgHome: try DrillFixture.require("VALKYRIE_TEST_GNUPGHOME"), sample: sample)
    }

    /// Runs a drill and checks it left nothing behind: no scratch folder, no process naming it.
    static func drill(_ set: SetRecord, sample: Int = 3) async throws -> (DrillReport, Drill) {
        let fixture = try await fixture()
        let settings = try settings(sample: sample)
        let drill = Drill(set: set, repository: fixture.repository, catalog: try fixture.catalog(), settings: settings)
        let report = try await drill.run()
        let folder = "\((settings.temporaryDirectory as NSString).standardizingPath)/valkyrie-drill-\(drill.id.uuidString.prefix(8).lowercased())"
        #expect(!FileManager.default.fileExists(atPath: folder), "scratch folder \(folder) left behind")
        #expect(processes(mentioning: folder).isEmpty, "processes left behind: \(processes(mentioning: folder))")
        return (report, drill)
    }

    /// PIDs whose command line names `text` (a scratch postgres or swtpm would name its folder).
    static func processes(mentioning text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { Int($0) != nil }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains(text) ? "\(pid): \(line)" : nil
        }
    }

    static func check(_ report: DrillReport, _ name: String) throws -> CheckResult {
        try #require(report.checks.first { $0.name == name }, "no \(name) check in \(report.checks.map(\.name))")
    }

    /// Every check but `failing` passed, `failing` failed and its evidence says `why`.
    static func expectOnly(_ failing: [String], failed report: DrillReport, why: String) throws {
        #expect(!report.passed)
        for check in report.checks {
            if failing.contains(check.name) {
                #expect(!check.passed, "\(check.name) should have failed: \(check.evidence)")
            } else {
                #expect(check.passed, "\(check.name) failed: \(check.evidence)")
            }
        }
        let evidence = try failing.map { try check(report, $0).evidence.joined(separator: "\n") }.joined(separator: "\n")
        #expect(evidence.contains(why), "evidence does not say \(why): \(evidence)")
    }

    @Test("a good tiny-host set passes every check; the events, report and projection record it")
    func goodSet() async throws {
        try await Self.counted {
            let fixture = try await Self.fixture()
            let (report, drill) = try await Self.drill(fixture.good)
            #expect(report.passed, "\(report.markdown)")
            #expect(report.checks.map(\.name) == ["restore", "database metadata", "user, group, role and share records",
                                                  "cost-control policy state", "key-export coverage", "swtpm unseal",
                                                  "local vault files", "S3 vault objects"])
            let restore = try Self.check(report, "restore")
            #expect(restore.evidence.contains { $0.contains("bytes) into the ") && $0.contains(", started in ") }, "\(restore.evidence)")
            let metadata = try Self.check(report, "database metadata")
            #expect(metadata.evidence.first { $0.hasPrefix("schema_migrations: ") }?.contains("every filename and sha256 equal") == true,
                    "\(metadata.evidence)")
            // The time per step: the dump, the scratch server, pg_restore, the exports, every check, teardown.
            #expect(report.steps.map(\.step) == ["dump from the repository", "scratch server start", "pg_restore", "database metadata",
                                                 "user, group, role and share records", "cost-control policy state", "key exports decrypted",
                                                 "key-export coverage", "swtpm unseal", "local vault files", "S3 vault objects", "teardown"])
            #expect(report.steps.allSatisfy { $0.seconds >= 0 } && report.steps.map(\.seconds).reduce(0, +) <= report.seconds)
            #expect(report.markdown.contains("## Time per step") && report.markdown.contains("| scratch server start |"))
            let swtpm = try Self.check(report, "swtpm unseal")
            #expect(swtpm.sensitive && swtpm.evidence.contains { $0.contains(".sealed_vault_master.blob: unsealed") })
            let local = try Self.check(report, "local vault files")
            #expect(local.evidence.contains { $0.contains("GCM tag valid") })
            let s3 = try Self.check(report, "S3 vault objects")
            #expect(s3.evidence.contains { $0.contains("s3/") && $0.contains("GCM tag valid") })
            let records = try Self.check(report, "user, group, role and share records")
            #expect(records.evidence.contains { $0.contains("share_link") && $0.contains("equal to the dump") })
            #expect(report.markdown.contains("password_hash=(not shown)"), "credential values are left out of the report")

            let catalog = try fixture.catalog()
            let recorded = try #require(try catalog.details(of: fixture.good).drills.first { $0.id == drill.id })
            #expect(recorded.status == .passed && recorded.failed == 0 && recorded.checks.count == report.checks.count)
            let events = try catalog.events(EventFilter(set: fixture.good.id)).compactMap { $0.decode(DrillCheck.self) }
                .filter { $0.drill == drill.id }
            #expect(events.count == report.checks.count && events.filter { $0.sensitive == true }.map(\.name) == ["swtpm unseal"])
            #expect(events.allSatisfy { $0.evidence.contains(" s") && $0.evidence.contains("took ") }, "each event carries its time")
            let unseal = try #require(events.first { $0.name == "swtpm unseal" })
            #expect(unseal.evidence.contains("sensitive: no key bytes recorded"))
            #expect(recorded.report?.contains("Vaulthalla") == true && recorded.report?.contains(report.gpgRecipient) == true)
        }
    }

    /// `valkyrie drill SET --sample N [--json]` run as the operator would, its scratch folder under a TMPDIR of
    /// its own: exits 1, and leaves no scratch folder and no process (postgres, swtpm) naming that TMPDIR.
    static func failingDrill(_ set: SetRecord, sample: Int, json: Bool = true) async throws
        -> (report: DrillReport?, stdout: String, stderr: String) {
        let fixture = try await fixture()
        let tmp = "\(fixture.folder)/tmp-\(set.host)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let drill = try valkyrie(["drill", set.name, "--sample", String(sample)] + (json ? ["--json"] : []), fixture: fixture, tmp: tmp)
        let output = try drill.output.readToEnd() ?? Data()
        let (status, stderr) = drill.wait()
        #expect(status == 1, "exit \(status): \(stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty, "scratch folder left in \(tmp)")
        #expect(processes(mentioning: tmp).isEmpty, "processes left behind: \(processes(mentioning: tmp))")
        let report = json ? try JSONFormat.decoder().decode(DrillReport.self, from: output) : nil
        return (report, String(decoding: output, as: UTF8.self), stderr)
    }

    @Test("a body whose ciphertext was changed fails the local file check, naming the file; exit 1, nothing left")
    func changedCiphertext() async throws {
        try await Self.counted {
            let (set, path) = try await BrokenSets(fixture: try await Self.fixture()).changedCiphertext()
            // Human output this time: the operator reads which check failed and why.
            let (_, text, stderr) = try await Self.failingDrill(set, sample: 100_000, json: false)
            #expect(stderr.contains("drill of \(set.name) FAILED: local vault files"), "\(stderr)")
            #expect(text.contains("Verdict: **FAILED**") && text.contains("## FAILED: local vault files"), "\(text)")
            #expect(text.contains("- FAILED: ") && text.contains(path) && text.contains("BLAKE2b-256 of the body differs"), "\(text)")
            for check in ["restore", "database metadata", "key-export coverage", "swtpm unseal", "S3 vault objects"] {
                #expect(text.contains("## passed: \(check) ("), "\(check) should pass: \(text)")
            }
            #expect(text.contains("## Time per step") && text.contains("| pg_restore |") && text.contains("| teardown |"), "\(text)")
        }
    }

    @Test("a key export missing one vault fails coverage, naming the vault; exit 1, nothing left")
    func missingKeyExport() async throws {
        try await Self.counted {
            let (set, vault) = try await BrokenSets(fixture: try await Self.fixture()).missingKeyExport()
            let report = try #require(try await Self.failingDrill(set, sample: 1).report)
            // The swtpm state still unwraps every vault key, so only coverage fails.
            try Self.expectOnly(["key-export coverage"], failed: report, why: "FAILED: vault \(vault) (id")
            #expect(try Self.check(report, "key-export coverage").evidence.first?.hasSuffix("has no exported key in the set") == true)
        }
    }

    @Test("a dump without share_link fails the metadata and record checks; exit 1, nothing left")
    func droppedTable() async throws {
        try await Self.counted {
            let set = try await BrokenSets(fixture: try await Self.fixture()).droppedTable()
            let report = try #require(try await Self.failingDrill(set, sample: 1).report)
            try Self.expectOnly(["database metadata", "user, group, role and share records"],
                                failed: report, why: "FAILED: share: table share_link is not in the set's dump")
            #expect(try Self.check(report, "database metadata").evidence.contains { $0.hasPrefix("FAILED: shares: restored 0, recorded at capture") })
        }
    }

    @Test("a dump whose schema_migrations disagree with the set's Vaulthalla version fails the metadata check")
    func otherMigrations() async throws {
        try await Self.counted {
            let set = try await BrokenSets(fixture: try await Self.fixture()).otherMigrations()
            let report = try #require(try await Self.failingDrill(set, sample: 1).report)
            try Self.expectOnly(["database metadata"], failed: report, why: "000000000000… restored")
            let first = try #require(try Self.check(report, "database metadata").evidence.first)
            #expect(first.hasPrefix("FAILED: schema_migrations: ") && first.contains("pinned at capture under \(report.vhVersion)")
                    && first.contains("999_newer.sql not applied under"), "\(first)")
        }
    }

    @Test("a set whose version record has no migration pins (older Valkyrie) cannot prove its schema: metadata fails")
    func unpinnedMigrations() async throws {
        try await Self.counted {
            let set = try await BrokenSets(fixture: try await Self.fixture()).withoutMigrationPins()
            let report = try #require(try await Self.failingDrill(set, sample: 1).report)
            try Self.expectOnly(["database metadata"], failed: report, why: "has no migration pins (made by an older Valkyrie)")
        }
    }

    @Test("swtpm state that cannot unseal fails the swtpm check; exit 1, no swtpm or folder left")
    func foreignSwtpmState() async throws {
        try await Self.counted {
            let set = try await BrokenSets(fixture: try await Self.fixture()).foreignSwtpmState()
            let report = try #require(try await Self.failingDrill(set, sample: 1).report)
            try Self.expectOnly(["swtpm unseal"], failed: report, why: "does not unseal on the restored swtpm state")
        }
    }

    @Test("--db: the dump goes into a new database of a given server, dropped afterwards; no scratch folder")
    func givenServer() async throws {
        try await Self.counted {
            let fixture = try await Self.fixture()
            let host = try DrillFixture.require("VALKYRIE_TEST_PGHOST")
            let env = DrillFixture.environment
            let conninfo = "host=\(host) port=\(env["VALKYRIE_TEST_PGPORT"] ?? "5432") user=\(env["VALKYRIE_TEST_PGUSER"] ?? "postgres") dbname=postgres"
            let tmp = "\(fixture.folder)/tmp-db"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            let drill = try Self.valkyrie(["drill", fixture.good.name, "--sample", "1", "--db", conninfo, "--json"], fixture: fixture, tmp: tmp)
            let output = try drill.output.readToEnd() ?? Data()
            let (status, stderr) = drill.wait()
            #expect(status == 0, "\(stderr)")
            let report = try JSONFormat.decoder().decode(DrillReport.self, from: output)
            #expect(report.passed, "\(report.markdown)")
            let name = "valkyrie_drill_\(report.drill.uuidString.prefix(8).lowercased())"
            #expect(try Self.check(report, "restore").evidence.contains { $0.contains("database \(name) of the --db server") })
            let left = try Subprocess.run("\(try DrillFixture.require("VALKYRIE_TEST_PGBIN"))/psql", ["-d", conninfo, "-Atc",
                "SELECT count(*) FROM pg_database WHERE datname = '\(name)'"])
            #expect(left.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "database \(name) was not dropped")
            #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty, "scratch folder left in \(tmp)")
        }
    }

    /// `valkyrie ARGS` with the fixture's config and the scratch folder under `tmp`.
    static func valkyrie(_ arguments: [String], fixture: DrillFixture, tmp: String) throws -> RunningProcess {
        let env = DrillFixture.environment
        return try Subprocess.start("\(DrillFixture.bin)/valkyrie", arguments, environment: [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "VALKYRIE_CONFIG": "\(fixture.folder)/valkyrie.yaml", "TMPDIR": tmp,
            "GNUPGHOME": env["VALKYRIE_TEST_GNUPGHOME"] ?? ""])
    }

    /// `valkyrie ARGS --json`: exit status and the parsed output.
    static func json(_ arguments: [String], fixture: DrillFixture, tmp: String) throws -> (Int32, [String: Any]) {
        let process = try valkyrie(arguments + ["--json"], fixture: fixture, tmp: tmp)
        let output = try process.output.readToEnd() ?? Data()
        let status = process.wait().status
        return (status, try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any], "\(arguments): not JSON"))
    }

    @Test("valkyrie drill exits 0 on the good set with the time per step; drills [--json] lists it; sets shows the verdict")
    func command() async throws {
        try await Self.counted {
            let fixture = try await Self.fixture()
            let tmp = "\(fixture.folder)/tmp-command"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            let (status, report) = try Self.json(["drill", fixture.good.name, "--sample", "1"], fixture: fixture, tmp: tmp)
            #expect(status == 0, "\(report)")
            #expect(report["tpmMode"] as? String == "swtpm" && (report["checks"] as? [Any])?.count == 8)
            for key in ["vhVersion", "databaseVersion", "gpgRecipient", "scratchDatabaseVersion"] { #expect(report[key] != nil, "no \(key)") }
            let steps = try #require(report["steps"] as? [[String: Any]]).compactMap { $0["step"] as? String }
            #expect(steps.first == "dump from the repository" && steps.last == "teardown" && steps.contains("pg_restore"), "\(steps)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
            let drillID = try #require(report["drill"] as? String)

            let drills = try Self.valkyrie(["drills"], fixture: fixture, tmp: tmp)
            let listed = String(decoding: try drills.output.readToEnd() ?? Data(), as: UTF8.self)
            #expect(drills.wait().status == 0 && listed.contains(fixture.good.name) && listed.contains(drillID) && listed.contains("passed"), "\(listed)")
            let (drillsStatus, drillsJSON) = try Self.json(["drills"], fixture: fixture, tmp: tmp)
            let entry = try #require((drillsJSON["drills"] as? [[String: Any]])?.first { ($0["drill"] as? [String: Any])?["id"] as? String == drillID },
                                     "\(drillsJSON)")
            #expect(drillsStatus == 0 && entry["set"] as? String == fixture.good.name && (entry["drill"] as? [String: Any])?["status"] as? String == "passed")

            let (setsStatus, setsJSON) = try Self.json(["sets"], fixture: fixture, tmp: tmp)
            #expect(setsStatus == 0)
            let good = try #require((setsJSON["sets"] as? [[String: Any]])?.first { $0["name"] as? String == fixture.good.name })
            #expect((good["lastDrill"] as? [String: Any])?["verdict"] as? String == "passed", "\(good)")
            let sets = try Self.valkyrie(["sets"], fixture: fixture, tmp: tmp)
            let setsText = String(decoding: try sets.output.readToEnd() ?? Data(), as: UTF8.self)
            #expect(sets.wait().status == 0 && setsText.contains("LAST DRILL") && setsText.contains("passed "), "\(setsText)")
        }
    }

    @Test("SIGINT or SIGTERM during a drill: exit 1, recorded as failed, no scratch server, swtpm or folder left",
          arguments: [SIGINT, SIGTERM])
    func interrupted(signal: Int32) async throws {
        try await Self.counted {
            let fixture = try await Self.fixture()
            let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
            let tmp = "\(fixture.folder)/tmp-\(name)"
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            let drill = try Self.valkyrie(["drill", fixture.good.name], fixture: fixture, tmp: tmp)
            // Wait for the scratch cluster to be up (its postmaster.pid), then interrupt. initdb is slow on a
            // loaded 2-core machine, so the wait is long; a drill that ends first is still caught below.
            var scratch: String?
            for _ in 0..<3000 where kill(drill.pid, 0) == 0 {
                // Any folder of tmp: the drill may make other temporary entries beside its scratch folder.
                if let folder = try FileManager.default.contentsOfDirectory(atPath: tmp).first(where: {
                    FileManager.default.fileExists(atPath: "\(tmp)/\($0)/pg/data/postmaster.pid")
                }) {
                    scratch = "\(tmp)/\(folder)"
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            guard let folder = scratch else {
                let (status, stderr) = drill.wait()
                Issue.record("the drill never started its scratch cluster (exit \(status)): \(stderr)")
                return
            }
            drill.signal(signal)
            let (status, stderr) = drill.wait()
            #expect(status == 1 && stderr.contains("interrupted by \(name)"), "\(status) \(stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder))
            #expect(Self.processes(mentioning: folder).isEmpty, "left behind: \(Self.processes(mentioning: folder))")
            let last = try fixture.catalog().details(of: fixture.good).drills.last
            #expect(last?.status == .failed)
            #expect(last?.checks.contains { $0.name == "drill" && $0.evidence.contains("interrupted by \(name)") } == true, "\(String(describing: last))")
            // What the run still did after the interrupt is not recorded: the interruption is the last check.
            #expect(last?.checks.last?.name == "drill", "\(String(describing: last?.checks.map(\.name)))")
        }
    }
}
