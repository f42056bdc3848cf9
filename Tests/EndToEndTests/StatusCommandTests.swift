import Catalog
import Foundation
import Support
import Testing

/// `valkyrie status` as a monitoring check: a repository made by `valkyrie init`, catalogs with a history written
/// through the catalog API (backups, drills, verifies at chosen ages), the exit code and both renderings.
@Suite struct StatusCommandTests {
    static let now = Date()

    /// A repository (passphrase slot) and a catalog in a folder removed afterwards.
    final class Place {
        let path = NSTemporaryDirectory() + "valkyrie-status-\(UUID().uuidString.prefix(8))"
        var repo: String { "\(path)/repo" }
        var catalog: String { "\(path)/catalog.db" }
        var config: String { "\(path)/valkyrie.yaml" }

        init() throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data("monitoring:\n  textfile: \"\"\n".utf8).write(to: URL(fileURLWithPath: config))
            let made = try run(["init"])
            guard made.status == 0 else { throw OperatorError.failed("valkyrie init: \(made.stderrText)") }
        }

        func run(_ arguments: [String]) throws -> Subprocess.Result {
            try Subprocess.run(RepositoryCommandTests.valkyrie, arguments + ["--repo", repo],
                               environment: ["PATH": "/usr/bin:/bin", "VALKYRIE_PASSWORD": "status test", "VALKYRIE_CONFIG": config,
                                             "VALKYRIE_CATALOG": catalog])
        }

        func status() throws -> (result: Subprocess.Result, report: [String: Any]) {
            let result = try run(["status", "--json"])
            let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
                                      "not JSON: \(result.stdoutText) \(result.stderrText)")
            return (result, report)
        }

        /// The catalog's history, written through the catalog API; the catalog is closed on return.
        func history(_ write: (Catalog) throws -> Void) throws {
            try write(try Catalog.open(at: catalog, mode: .create, origin: EventOrigin(host: "vh1", uid: 0, user: "root")))
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func hoursAgo(_ hours: Double) -> Date { now.addingTimeInterval(-hours * 3600) }

    @discardableResult
    static func backup(_ catalog: Catalog, hoursAgo hours: Double, warnings: [String] = [], fails: Bool = false) throws -> SetRecord {
        let set = try catalog.startSet(host: "vh1", startedAt: hoursAgo(hours), valkyrieVersion: "0.1.0", items: ["etc"])
        if fails {
            try catalog.append(BackupFailed(set: set.id, error: "pg_dump failed: connection refused"), occurredAt: hoursAgo(hours - 0.1))
        } else {
            try catalog.append(ItemCaptured(set: set.id, item: "etc", root: "r", digest: "d", size: 4096, files: 3, warnings: warnings),
                               occurredAt: hoursAgo(hours - 0.05))
            try catalog.append(BackupCompleted(set: set.id, warnings: []), occurredAt: hoursAgo(hours - 0.1))
        }
        return try catalog.requireSet(set.name)
    }

    static func drill(_ catalog: Catalog, of set: SetRecord, hoursAgo hours: Double, passes: Bool) throws {
        let drill = UUID()
        try catalog.append(DrillStarted(drill: drill, set: set.id), occurredAt: hoursAgo(hours))
        try catalog.append(DrillCheck(drill: drill, set: set.id, name: "database.counts", passed: true, evidence: "12 users"),
                           occurredAt: hoursAgo(hours - 0.01))
        try catalog.append(DrillCheck(drill: drill, set: set.id, name: "files.sample", passed: passes, evidence: "3 files"),
                           occurredAt: hoursAgo(hours - 0.02))
        try catalog.append(DrillCompleted(drill: drill, set: set.id, passed: passes), occurredAt: hoursAgo(hours - 0.03))
    }

    static func attention(_ report: [String: Any]) -> [(severity: String, message: String)] {
        ((report["attention"] as? [[String: Any]]) ?? []).map { ($0["severity"] as? String ?? "", $0["message"] as? String ?? "") }
    }

    @Test("healthy: a fresh backup, a recent passing drill and a clean verify: exit 0, nothing needs attention")
    func healthy() throws {
        let place = try Place()
        try place.history { catalog in
            try Self.backup(catalog, hoursAgo: 50)
            let latest = try Self.backup(catalog, hoursAgo: 3)
            try Self.drill(catalog, of: latest, hoursAgo: 2, passes: true)
            try catalog.append(VerifyCompleted(checkedPacks: 4, readDataPercent: 10, problems: []), occurredAt: Self.hoursAgo(1))
        }
        let (result, report) = try place.status()
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        #expect(Self.attention(report).isEmpty)
        #expect(report["exitCode"] as? Int == 0)
        let repository = try #require(report["repository"] as? [String: Any])
        #expect(repository["reachable"] as? Bool == true && (repository["slots"] as? [[String: Any]])?.first?["kind"] as? String == "passphrase")
        let catalog = try #require(report["catalog"] as? [String: Any])
        #expect(catalog["chainOK"] as? Bool == true && catalog["sets"] as? Int == 2)
        #expect((report["lastBackup"] as? [String: Any])?["status"] as? String == "complete")
        #expect((report["lastDrill"] as? [String: Any])?["passed"] as? Bool == true)
        #expect((report["lastDrill"] as? [String: Any])?["checksPassed"] as? Int == 2)
        #expect((report["lastVerify"] as? [String: Any])?["readDataPercent"] as? Double == 10)
        #expect((report["tpm"] as? [String: Any])?["mode"] != nil)

        let human = try place.run(["status"])
        #expect(human.status == 0)
        for line in ["repository  \(place.repo): 1 key slots", "chain ok", "last backup ", ": complete, 2 h ago", "last drill ",
                     ": passed (2 passed, 0 failed)", "last verify ", "10 % of the data read, no problems", "attention   none"] {
            #expect(human.stdoutText.contains(line), "missing \(line) in\n\(human.stdoutText)")
        }
    }

    @Test("warnings only: the last backup is partial and no drill ran yet on a young catalog: exit 3, each named")
    func warningsOnly() throws {
        let place = try Place()
        try place.history { catalog in
            try Self.backup(catalog, hoursAgo: 2, warnings: ["var/lib/vaulthalla/a.bin vanished during capture"])
        }
        let (result, report) = try place.status()
        #expect(result.status == 3, "\(result.stdoutText)\(result.stderrText)")
        let attention = Self.attention(report)
        #expect(attention.map(\.severity) == ["warning", "warning"], "\(attention)")
        #expect(attention.contains { $0.message.contains("has 1 warnings") })
        #expect(attention.contains { $0.message.contains("no drill has passed yet") })
        let human = try place.run(["status"])
        #expect(human.status == 3 && human.stdoutText.contains("warning: etc: var/lib/vaulthalla/a.bin vanished during capture"),
                "\(human.stdoutText)")
    }

    @Test("needs attention: backup overdue then failed, the last drill failed, none passed for 40 days, verify found damage: exit 1")
    func critical() throws {
        let place = try Place()
        try place.history { catalog in
            let old = try Self.backup(catalog, hoursAgo: 60 * 24)
            try Self.drill(catalog, of: old, hoursAgo: 40 * 24, passes: true)
            let last = try Self.backup(catalog, hoursAgo: 30)
            try Self.drill(catalog, of: last, hoursAgo: 29, passes: false)
            try Self.backup(catalog, hoursAgo: 5, fails: true)
            try catalog.append(VerifyCompleted(checkedPacks: 4, readDataPercent: 100, problems: ["pack 3f2a: authentication failed"]),
                               occurredAt: Self.hoursAgo(4))
        }
        let (result, report) = try place.status()
        #expect(result.status == 1, "\(result.stdoutText)\(result.stderrText)")
        let messages = Self.attention(report).filter { $0.severity == "critical" }.map(\.message)
        for expected in ["no successful backup for 29 h", "failed: pg_dump failed: connection refused", "the last drill (of ",
                         "no passing drill for 39 days", "the last verify found 1 problems"] {
            #expect(messages.contains { $0.contains(expected) }, "missing \(expected) in \(messages)")
        }
        let human = try place.run(["status"])
        #expect(human.status == 1 && human.stdoutText.contains("attention   CRITICAL: "), "\(human.stdoutText)")
        #expect(human.stdoutText.contains("last good   "), "\(human.stdoutText)")
    }

    @Test("thresholds come from the config's monitoring section")
    func thresholdsFromConfig() throws {
        let place = try Place()
        try place.history { catalog in
            let set = try Self.backup(catalog, hoursAgo: 30)
            try Self.drill(catalog, of: set, hoursAgo: 29, passes: true)
        }
        #expect(try place.status().result.status == 1)
        try Data("monitoring:\n  textfile: \"\"\n  backup_max_age_hours: 48\n".utf8).write(to: URL(fileURLWithPath: place.config))
        let relaxed = try place.status()
        #expect(relaxed.result.status == 0, "\(relaxed.result.stdoutText)")
    }

    @Test("a catalog rewritten behind valkyrie's back, a missing catalog, an unreadable repository: exit 1, each named")
    func brokenPieces() throws {
        let place = try Place()
        try place.history { catalog in
            let set = try Self.backup(catalog, hoursAgo: 2)
            try Self.drill(catalog, of: set, hoursAgo: 1, passes: true)
            try catalog.append(VerifyCompleted(checkedPacks: 1, problems: ["MARKER-0001"]))
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: place.catalog))
        while let range = bytes.range(of: Data("MARKER-0001".utf8)) { bytes.replaceSubrange(range, with: Data("MARKER-9999".utf8)) }
        try bytes.write(to: URL(fileURLWithPath: place.catalog))
        let (rewritten, report) = try place.status()
        #expect(rewritten.status == 1)
        #expect(Self.attention(report).contains { $0.message.contains("chain does not verify") }, "\(Self.attention(report))")

        try FileManager.default.removeItem(atPath: place.catalog)
        let missing = try place.run(["status"])
        #expect(missing.status == 1 && missing.stdoutText.contains("catalog     \(place.catalog): CANNOT BE READ"), "\(missing.stdoutText)")
        #expect(missing.stdoutText.contains("CRITICAL: catalog \(place.catalog)"))

        let elsewhere = try Subprocess.run(RepositoryCommandTests.valkyrie, ["status", "--repo", "\(place.path)/nothing-here"],
                                           environment: ["PATH": "/usr/bin:/bin", "VALKYRIE_CONFIG": place.config,
                                                         "VALKYRIE_CATALOG": place.catalog])
        #expect(elsewhere.status == 1 && elsewhere.stdoutText.contains("repository  \(place.path)/nothing-here: UNREADABLE"),
                "\(elsewhere.stdoutText)")
    }
}
