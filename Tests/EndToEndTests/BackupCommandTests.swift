import Foundation
import Support
import Synchronization
import Testing

/// `valkyrie backup` and `doctor` on a tiny lab host, driven as an operator would: one host for the suite (the
/// tests only read it, bar the vh fail switch, so they run one after another), each test with its own
/// repository and catalog.
@Suite(.serialized) struct BackupCommandTests {
    static let environment = ProcessInfo.processInfo.environment
    static var bin: String { (RepositoryCommandTests.valkyrie as NSString).deletingLastPathComponent }

    /// The shared lab host, made on first use and destroyed when the last test of the suite is done.
    static let shared = Result { try LabHost() }
    static let testCount = 11
    static let finished = Mutex(0)

    static func done() {
        let all = finished.withLock { count in
            count += 1
            return count == testCount
        }
        if all, let host = try? shared.get() { host.destroy() }
    }

    /// A filtered run may not reach the last test: the host is destroyed when the test process exits too.
    static let leftover = Mutex<LabHost?>(nil)

    final class LabHost: Sendable {
        let folder: String
        let root: String
        init() throws {
            let needed = ["VALKYRIE_TEST_PGHOST", "VALKYRIE_TEST_PGBIN", "VALKYRIE_TEST_S3_ENDPOINT", "VALKYRIE_TEST_GNUPGHOME",
                          "VALKYRIE_TEST_GPG_FPR", "AWS_ACCESS_KEY_ID"]
            let missing = needed.filter { (BackupCommandTests.environment[$0] ?? "").isEmpty }
            guard missing.isEmpty else {
                throw OperatorError.failed("test services are not configured (\(missing.joined(separator: ", ")) unset)",
                                           remedy: "run `scripts/services start DIR` and source DIR/env, or use scripts/test")
            }
            let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
            folder = "/tmp/vke2e-\(tag)"
            root = "\(folder)/host"
            let made = try Subprocess.run("\(BackupCommandTests.bin)/vaulthalla-lab",
                                          ["create", "--root", root, "--profile", "tiny", "--database", "vke2e_\(tag)"])
            guard made.status == 0 else { throw OperatorError.failed("vaulthalla-lab create: \(made.stderrSummary)") }
            BackupCommandTests.leftover.withLock { $0 = self }
            atexit { BackupCommandTests.leftover.withLock { $0 }?.destroy() }
        }

        func destroy() {
            BackupCommandTests.leftover.withLock { $0 = nil }
            _ = try? Subprocess.run("\(BackupCommandTests.bin)/vaulthalla-lab", ["destroy", "--root", root])
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// A repository (GPG slot), catalog and config for one test, in a folder removed afterwards.
    final class Setup {
        let host: LabHost
        let path: String
        var config: String { "\(path)/valkyrie.yaml" }

        init(_ overrides: [String: String] = [:], maintenance: (stop: String, start: String)? = nil, labHost: LabHost? = nil) throws {
            host = try labHost ?? BackupCommandTests.shared.get()
            path = "\(host.folder)/t-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let env = BackupCommandTests.environment
            var values = [
                "repository": "\(path)/repo", "catalog": "\(path)/catalog.db", "host.root": host.root, "host.name": "e2e-host",
                "postgres.bin_dir": env["VALKYRIE_TEST_PGBIN"]!, "exports.recipient": env["VALKYRIE_TEST_GPG_FPR"]!,
                "exports.gnupghome": env["VALKYRIE_TEST_GNUPGHOME"]!, "s3_capture.endpoint": env["VALKYRIE_TEST_S3_ENDPOINT"]!,
            ]
            values.merge(overrides) { $1 }
            // The lab's config.yaml names the cluster's socket folder as `database.host`: no conninfo needed.
            var yaml = ""
            var sections: [String: [(String, String)]] = [:]
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                if parts.count == 1 { yaml += "\(key): \"\(value)\"\n" } else { sections[parts[0], default: []].append((parts[1], value)) }
            }
            for (section, entries) in sections.sorted(by: { $0.key < $1.key }) {
                yaml += "\(section):\n" + entries.map { "  \($0.0): \"\($0.1)\"\n" }.joined()
            }
            yaml += "maintenance:\n  stop: [\(Self.quoted(maintenance?.stop ?? "true"))]\n  start: [\(Self.quoted(maintenance?.start ?? "true"))]\n"
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
            let made = try run(["init", "--gpg", env["VALKYRIE_TEST_GPG_FPR"]!])
            guard made.status == 0 else { throw OperatorError.failed("valkyrie init: \(made.stderrText)") }
        }

        static func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }

        var environment: [String: String] {
            let env = BackupCommandTests.environment
            return ["PATH": "/usr/bin:/bin", "VALKYRIE_CONFIG": config, "GNUPGHOME": env["VALKYRIE_TEST_GNUPGHOME"]!,
                    "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"]!, "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"]!,
                    "AWS_DEFAULT_REGION": env["AWS_DEFAULT_REGION"] ?? "us-east-1"]
        }

        func run(_ arguments: [String]) throws -> Subprocess.Result {
            try Subprocess.run(RepositoryCommandTests.valkyrie, arguments, environment: environment)
        }

        /// Starts `valkyrie ARGS` without waiting.
        func start(_ arguments: [String]) throws -> RunningProcess {
            try Subprocess.start(RepositoryCommandTests.valkyrie, arguments, environment: environment)
        }

        func json(_ result: Subprocess.Result) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "not JSON: \(result.stdoutText) \(result.stderrText)")
        }

        /// The status of the only (or last) set in `log`, by reading `show` of the name in the failure message.
        func setStatus(named name: String) throws -> String? {
            let shown = try run(["show", name, "--json"])
            return (try? json(shown))?["set"].flatMap { ($0 as? [String: Any])?["status"] as? String }
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// The set a failure message names (`backup <name> failed ...` or `backup <name> interrupted ...`).
    static func setName(in message: String) -> String? {
        guard let range = message.range(of: #"backup (\S+) (failed|interrupted)"#, options: .regularExpression) else { return nil }
        return message[range].split(separator: " ").dropFirst().first.map(String.init)
    }

    @Test("doctor passes; backup takes every item; sets and show list it; a second backup adds far less; --maintenance stops and starts")
    func fullSetThenIncremental() throws {
        defer { Self.done() }
        let log = "\(try Self.shared.get().folder)/maintenance-\(UUID().uuidString.prefix(6)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let setup = try Setup(maintenance: (stop: "echo stop >> \(log)", start: "echo start >> \(log)"))
        let doctor = try setup.run(["doctor"])
        #expect(doctor.status == 0, "\(doctor.stdoutText)\(doctor.stderrText)")
        #expect(doctor.stdoutText.contains("ok   postgres") && doctor.stdoutText.contains("ok   recipient"))

        let first = try setup.run(["backup", "--json"])
        #expect(first.status == 0, "\(first.stdoutText)\(first.stderrText)")
        let summary = try setup.json(first)
        let items = try #require(summary["items"] as? [[String: Any]])
        #expect(Set(items.compactMap { $0["item"] as? String }) == ["postgres", "etc/vaulthalla", "var/lib/vaulthalla",
                "var/lib/swtpm/vaulthalla", "exports", "keys", "s3", "valkyrie/s3-objects.jsonl", "valkyrie/vault-index.jsonl",
                "valkyrie/version.json"])
        #expect(items.allSatisfy { ($0["digest"] as? String)?.isEmpty == false && $0["seconds"] != nil })
        let name = try #require(summary["set"] as? String)

        let sets = try setup.run(["sets"])
        #expect(sets.status == 0 && sets.stdoutText.contains(name))
        let shown = try setup.run(["show", name])
        #expect(shown.status == 0 && shown.stdoutText.contains("var/lib/vaulthalla") && shown.stdoutText.contains("keys"))

        let second = try setup.run(["backup", "--json", "--maintenance"])
        #expect(second.status == 0, "\(second.stdoutText)\(second.stderrText)")
        let again = try setup.json(second)
        let added1 = (summary["bytesAdded"] as? NSNumber)?.int64Value ?? 0, added2 = (again["bytesAdded"] as? NSNumber)?.int64Value ?? -1
        #expect(added2 >= 0 && added2 < added1 / 2, "first added \(added1), second \(added2)")
        #expect((again["reusedFiles"] as? Int ?? 0) > 0 && again["maintenance"] as? Bool == true)
        #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "stop\nstart\n")
        let verify = try setup.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdoutText)")
        // Not a terminal: only the summary, no progress line.
        let quiet = try setup.run(["sets"])
        #expect(!quiet.stderrText.contains("\r"))
    }

    @Test("on a terminal, a progress line (item, files, bytes, rate) on stderr, then the summary")
    func progressOnTerminal() throws {
        defer { Self.done() }
        let setup = try Setup()
        // `script` gives the command a pseudo-terminal; its output is what the terminal shows.
        let command = "'\(RepositoryCommandTests.valkyrie)' backup"
        let result = try Subprocess.run("script", ["-qec", command, "/dev/null"], environment: setup.environment)
        #expect(result.status == 0, "\(result.stdoutText)")
        let screen = result.stdoutText
        #expect(screen.contains("\r\u{1B}[K") && screen.contains("item ") && screen.contains(" files, ") && screen.contains("/s"), "\(screen)")
        #expect(screen.contains(": complete, 10 items"))
    }

    /// Runs a backup that must fail with `status`, its message containing `text`; the set is recorded failed.
    func expectFailure(_ setup: Setup, status: Int32, _ text: String, recorded: Bool = true, _ arguments: [String] = []) throws {
        let result = try setup.run(["backup"] + arguments)
        #expect(result.status == status, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stderrText.contains(text), "\(result.stderrText)")
        #expect(!result.stderrText.contains("VALKYRIE_TEST"))
        if recorded {
            let name = try #require(Self.setName(in: result.stderrText), "\(result.stderrText)")
            #expect(try setup.setStatus(named: name) == "failed")
            let sets = try setup.run(["sets"])
            #expect(!sets.stdoutText.contains(name))
        }
    }

    @Test("PostgreSQL unreachable: exit 1 naming the server, the set recorded failed")
    func postgresUnreachable() throws {
        defer { Self.done() }
        let setup = try Setup(["postgres.conninfo": "host=\(Self.environment["VALKYRIE_TEST_PGHOST"]!) port=1 dbname=vaulthalla user=vaulthalla"])
        try expectFailure(setup, status: 1, "port=1 ")
    }

    @Test("vh missing (exit 2), failing with the daemon down (exit 1), recorded as failed")
    func vhMissingOrFailing() throws {
        defer { Self.done() }
        let missing = try Setup(["vh": "/nonexistent/bin/vh"])
        try expectFailure(missing, status: 2, "vh is not at /nonexistent/bin/vh")

        let host = try Self.shared.get()
        let failSwitch = "\(host.root)/lab/vh-fail"
        try Data("69 daemon down\n".utf8).write(to: URL(fileURLWithPath: failSwitch))
        defer { try? FileManager.default.removeItem(atPath: failSwitch) }
        let failing = try Setup()
        try expectFailure(failing, status: 1, "exit 69")
    }

    @Test("recipient unknown: doctor says so (exit 1), backup exits 2 naming the key")
    func recipientUnknown() throws {
        defer { Self.done() }
        let setup = try Setup(["exports.recipient": "0123456789ABCDEF0123456789ABCDEF01234567"])
        let doctor = try setup.run(["doctor"])
        #expect(doctor.status == 1 && doctor.stdoutText.contains("FAIL recipient") && doctor.stdoutText.contains("ok   postgres"),
                "\(doctor.stdoutText)")
        try expectFailure(setup, status: 2, "0123456789ABCDEF0123456789ABCDEF01234567")
    }

    @Test("S3 endpoint unreachable: exit 1 naming it, the set recorded failed")
    func s3Unreachable() throws {
        defer { Self.done() }
        let setup = try Setup(["s3_capture.endpoint": "http://127.0.0.1:9"])
        try expectFailure(setup, status: 1, "127.0.0.1:9")
    }

    @Test("repository unreachable: exit 2, nothing recorded")
    func repositoryUnreachable() throws {
        defer { Self.done() }
        let setup = try Setup()
        let result = try Subprocess.run(RepositoryCommandTests.valkyrie, ["backup", "--repo", "\(setup.path)/no-such-repo"],
                                        environment: setup.environment)
        #expect(result.status == 2 && result.stderrText.contains("no-such-repo"), "\(result.stderrText)")
    }

    @Test("repository full (a 256 KiB tmpfs): exit 1 naming the repository, the set recorded failed, the repository verifies; with room again, the next backup completes")
    func repositoryFull() throws {
        defer { Self.done() }
        let mountPoint = "\(try Self.shared.get().folder)/full-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Subprocess.check("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint])
        defer {
            _ = try? Subprocess.run("umount", [mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        let setup = try Setup(["repository": "\(mountPoint)/repo"])
        try expectFailure(setup, status: 1, "\(mountPoint)/repo")
        // Clean, but the catalog's events cannot be written into the full repository yet: a warning, exit 3.
        let verify = try setup.run(["verify"])
        #expect(verify.status == 3 && verify.stdoutText.contains("no problems found"), "\(verify.stdoutText)")
        #expect(verify.stderrText.contains("not yet written into the repository"), "\(verify.stderrText)")

        try Subprocess.check("mount", ["-o", "remount,size=64m", mountPoint])
        let next = try setup.run(["backup"])
        #expect(next.status == 0, "\(next.stdoutText)\(next.stderrText)")
        #expect(try setup.run(["verify", "--read-data"]).status == 0)
    }

    @Test("permission denied on a file (root without CAP_DAC_OVERRIDE): exit 3 naming the file, the set partial")
    func permissionDenied() throws {
        defer { Self.done() }
        let host = try Self.shared.get()
        let locked = "\(host.root)/etc/vaulthalla/locked.conf"
        try Data("not for the backup\n".utf8).write(to: URL(fileURLWithPath: locked))
        chmod(locked, 0)
        defer { try? FileManager.default.removeItem(atPath: locked) }
        let setup = try Setup()
        // Root obeys file modes once the capabilities that bypass them are gone from its bounding set.
        let result = try Subprocess.run("setpriv", ["--bounding-set", "-dac_override,-dac_read_search", "--",
                                                    RepositoryCommandTests.valkyrie, "backup"], environment: setup.environment)
        #expect(result.status == 3, "\(result.stdoutText)\(result.stderrText)")
        #expect((result.stdoutText + result.stderrText).contains("locked.conf"), "\(result.stdoutText)\(result.stderrText)")
        let sets = try setup.json(try setup.run(["sets", "--json"]))
        let listed = try #require(sets["sets"] as? [[String: Any]], "\(sets)")
        #expect(listed.count == 1 && listed.first?["status"] as? String == "partial", "\(listed)")
    }

    /// A backup held in its maintenance stop command (which writes its pid, then sleeps), so a signal lands mid-run.
    func interrupted(by signal: Int32) throws -> (setup: Setup, status: Int32, stderr: String, servicesStarted: Bool) {
        let marker = "\(try Self.shared.get().folder)/held-\(UUID().uuidString.prefix(6))"
        let setup = try Setup(maintenance: (stop: "echo $$ > \(marker).tmp && mv \(marker).tmp \(marker); exec sleep 20", start: "echo started > \(marker).start"))
        let process = try setup.start(["backup", "--maintenance"])
        var waited = 0
        while !FileManager.default.fileExists(atPath: marker) && waited < 600 { Thread.sleep(forTimeInterval: 0.1); waited += 1 }
        let sleeper = (try? String(contentsOfFile: marker, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        process.signal(signal)
        let (status, stderr) = process.wait()
        _ = try? process.output.readToEnd()
        if let sleeper { kill(sleeper, SIGKILL) }
        defer { try? FileManager.default.removeItem(atPath: marker); try? FileManager.default.removeItem(atPath: "\(marker).start") }
        return (setup, status, stderr, FileManager.default.fileExists(atPath: "\(marker).start"))
    }

    @Test("SIGTERM and SIGINT mid-backup: exit 1, the services started again, the set recorded failed, the repository verifies")
    func signals() throws {
        defer { Self.done() }
        for (signal, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            let (setup, status, stderr, servicesStarted) = try interrupted(by: signal)
            #expect(status == 1, "\(stderr)")
            #expect(stderr.contains("interrupted by \(name)"), "\(stderr)")
            #expect(servicesStarted)
            let setName = try #require(Self.setName(in: stderr))
            #expect(try setup.setStatus(named: setName) == "failed")
            #expect(try setup.run(["verify"]).status == 0)
        }
    }

    @Test("kill -9 mid-backup: no complete set; the next backup completes and the repository verifies")
    func killed() throws {
        defer { Self.done() }
        let (setup, status, _, _) = try interrupted(by: SIGKILL)
        #expect(status == 128 + SIGKILL)
        let sets = try setup.run(["sets", "--json"])
        #expect(!sets.stdoutText.contains("e2e-host"))
        let next = try setup.run(["backup", "--json"])
        #expect(next.status == 0, "\(next.stdoutText)\(next.stderrText)")
        #expect(try setup.run(["verify"]).status == 0)
    }
}
