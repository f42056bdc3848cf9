import Foundation
import Support
import Testing

/// The metrics text file and the event lines on stderr after real runs on a lab host: a backup, a drill, verifies,
/// and a backup that fails. The file is parsed as node_exporter would (text exposition format).
@Suite(.serialized) struct MetricsAndLogTests {
    /// A parsed exposition file: every sample by series (`name{labels}`), and the families that have HELP and TYPE.
    struct Exposition {
        var samples: [String: Double] = [:]
        var typed: Set<String> = []

        /// Parses `text`, recording an issue for anything the text format does not allow.
        init(_ text: String) {
            let sample = #/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? (\S+)$/#
            var helped: Set<String> = []
            #expect(text.hasSuffix("\n"), "the file must end with a newline")
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                if line.hasPrefix("# HELP ") {
                    let name = String(line.dropFirst(7).prefix { $0 != " " })
                    #expect(helped.insert(name).inserted, "HELP twice for \(name)")
                } else if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    #expect(parts.count == 4 && parts[3] == "gauge", "\(line)")
                    #expect(typed.insert(String(parts[2])).inserted, "TYPE twice for \(parts[2])")
                } else if let match = try? sample.wholeMatch(in: String(line)) {
                    let name = String(match.1)
                    #expect(typed.contains(name) && helped.contains(name), "sample before its HELP and TYPE: \(line)")
                    let value = Double(String(match.4))
                    #expect(value != nil, "not a number: \(line)")
                    let series = name + (match.2.map(String.init) ?? "")
                    #expect(samples[series] == nil, "series twice: \(series)")
                    samples[series] = value ?? .nan
                } else {
                    Issue.record("not exposition format: \(line)")
                }
            }
        }

        subscript(_ series: String) -> Double? { samples[series] }
    }

    /// Runs argv with stderr on a socket and $JOURNAL_STREAM naming it, as systemd does for a unit, and prints
    /// what arrives on the socket; exits with the command's status.
    static let asJournal = """
        import os, socket, subprocess, sys
        ours, theirs = socket.socketpair()
        st = os.fstat(theirs.fileno())
        env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=theirs, env=env)
        theirs.close()
        received = b""
        while chunk := ours.recv(65536):
            received += chunk
        sys.stdout.buffer.write(received)
        sys.exit(child.wait())
        """

    static func read(_ path: String) throws -> Exposition {
        Exposition(try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test("backup, drill, verify and forget --prune write the metrics file and log one line per event; a failing backup keeps the last success")
    func metricsAfterRealRuns() throws {
        let host = try BackupCommandTests.LabHost()
        defer { host.destroy() }
        let metrics = "\(host.folder)/textfile/valkyrie.prom"
        let good = try BackupCommandTests.Setup(["monitoring.textfile": metrics], labHost: host)

        let before = Date().timeIntervalSince1970
        // $JOURNAL_STREAM inherited by a process whose stderr is a pipe: not the journal.
        let backup = try Subprocess.run(RepositoryCommandTests.valkyrie, ["backup", "--json"],
                                        environment: good.environment.merging(["JOURNAL_STREAM": "8:12345"]) { $1 })
        let after = Date().timeIntervalSince1970
        #expect(backup.status == 0, "\(backup.stdoutText)\(backup.stderrText)")
        let summary = try good.json(backup)

        // Not a terminal: one plain line per event, no colour, no journal prefix outside systemd.
        let lines = backup.stderrText.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.hasPrefix("valkyrie: ") && !$0.contains("\u{1B}") }, "\(backup.stderrText)")
        #expect(lines.first == "valkyrie: backup: started")
        #expect(lines.contains { $0.hasPrefix("valkyrie: backup.started set=\(summary["set"] as? String ?? "?") ") }, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("valkyrie: backup.item-captured ") }.count == 10, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("valkyrie: backup.item-captured ") && $0.contains(" item=postgres ") })
        #expect(lines.contains { $0.hasPrefix("valkyrie: backup.completed set=") })
        #expect(lines.last?.hasPrefix("valkyrie: backup: done (exit 0) in ") == true, "\(lines)")

        var file = try Self.read(metrics)
        let success = try #require(file[#"valkyrie_last_success_timestamp_seconds{command="backup"}"#])
        #expect(success >= before.rounded(.down) && success <= after.rounded(.up))
        #expect(file[#"valkyrie_last_failure_timestamp_seconds{command="backup"}"#] == nil)
        #expect(file[#"valkyrie_last_exit_code{command="backup"}"#] == 0)
        #expect((file[#"valkyrie_last_duration_seconds{command="backup"}"#] ?? 0) > 0)
        #expect(file["valkyrie_backup_last_added_bytes"] == (summary["bytesAdded"] as? NSNumber)?.doubleValue)
        #expect(file["valkyrie_backup_last_size_bytes"] == (summary["bytes"] as? NSNumber)?.doubleValue)
        #expect(file["valkyrie_backup_last_warnings"] == 0)
        #expect(file["valkyrie_sets"] == 1)
        #expect(file["valkyrie_drill_last_passed"] == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: metrics)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(host.folder)/textfile").filter { $0.hasSuffix(".prom") } == ["valkyrie.prom"])

        // The drill runs its scratch PostgreSQL through runuser, in /usr/sbin.
        let drill = try Subprocess.run(RepositoryCommandTests.valkyrie, ["drill"],
                                       environment: good.environment.merging(["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) { $1 })
        #expect(drill.status == 0, "\(drill.stdoutText)\(drill.stderrText)")
        #expect(drill.stderrText.contains("valkyrie: drill.check set=") && drill.stderrText.contains("valkyrie: drill.completed "))
        // The drill's Markdown report stays out of the one-line-per-event log (it is --verbose detail).
        #expect(!drill.stderrText.contains("report="))
        file = try Self.read(metrics)
        #expect(file[#"valkyrie_last_exit_code{command="drill"}"#] == 0)
        #expect(file["valkyrie_drill_last_passed"] == 1)
        let drilled = try #require(file["valkyrie_drill_last_timestamp_seconds"])
        #expect(file["valkyrie_drill_last_pass_timestamp_seconds"] == drilled && drilled >= success)
        #expect(file[#"valkyrie_last_success_timestamp_seconds{command="backup"}"#] == success, "the backup's series are kept")

        let verify = try good.run(["verify", "--read-data=50"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
        file = try Self.read(metrics)
        #expect(file["valkyrie_verify_last_read_data_percent"] == 50 && file["valkyrie_verify_last_problems"] == 0)
        #expect(file[#"valkyrie_last_exit_code{command="verify"}"#] == 0)

        // What the prune timer runs: one set kept, nothing old enough to delete yet.
        let pruned = try good.run(["forget", "--prune", "--keep-last", "1"])
        #expect(pruned.status == 0, "\(pruned.stdoutText)\(pruned.stderrText)")
        #expect(pruned.stderrText.hasPrefix("valkyrie: prune: started\n") && pruned.stderrText.contains("valkyrie: prune.completed "),
                "\(pruned.stderrText)")
        #expect(pruned.stderrText.contains("valkyrie: prune: done (exit 0) in "))
        file = try Self.read(metrics)
        #expect(file[#"valkyrie_last_exit_code{command="prune"}"#] == 0 && file["valkyrie_prune_last_removed_bytes"] == 0)
        #expect(file[#"valkyrie_last_success_timestamp_seconds{command="prune"}"#] != nil)

        // The same file from a host whose PostgreSQL is unreachable, as the journal sees it.
        let bad = try BackupCommandTests.Setup(["monitoring.textfile": metrics,
                                                "postgres.conninfo": "host=\(BackupCommandTests.environment["VALKYRIE_TEST_PGHOST"]!) port=1 dbname=vaulthalla user=vaulthalla"],
                                               labHost: host)
        let failed = try Subprocess.run("python3", ["-c", Self.asJournal, RepositoryCommandTests.valkyrie, "backup", "--verbose"],
                                        environment: bad.environment)
        #expect(failed.status == 1, "\(failed.stdoutText)\(failed.stderrText)")
        let journal = failed.stdoutText.split(separator: "\n").map(String.init)
        #expect(journal.first == "<6>valkyrie: backup: started", "\(journal)")
        #expect(journal.contains { $0.hasPrefix("<6>valkyrie: backup.started set=") && $0.contains(#" items="[postgres, etc/vaulthalla"#) }, "--verbose shows arrays: \(journal)")
        #expect(journal.contains { $0.hasPrefix("<3>valkyrie: backup.failed set=") && $0.contains("port=1") }, "\(journal)")
        #expect(journal.contains { $0.hasPrefix("<3>valkyrie: backup: failed (exit 1) in ") })
        #expect(journal.last?.hasPrefix("<3>valkyrie: ") == true && journal.allSatisfy { $0.hasPrefix("<") }, "\(journal)")

        file = try Self.read(metrics)
        let failure = try #require(file[#"valkyrie_last_failure_timestamp_seconds{command="backup"}"#])
        #expect(failure >= success)
        #expect(file[#"valkyrie_last_success_timestamp_seconds{command="backup"}"#] == success)
        #expect(file[#"valkyrie_last_exit_code{command="backup"}"#] == 1)
        #expect(file["valkyrie_backup_last_added_bytes"] == (summary["bytesAdded"] as? NSNumber)?.doubleValue, "a failure keeps the last success's numbers")
        #expect(file["valkyrie_sets"] == 0, "counted in the failing host's own catalog")
        #expect(file[#"valkyrie_last_exit_code{command="verify"}"#] == 0)
    }

    @Test("textfile \"\" turns metrics off; a textfile that cannot be written is a warning, not a failed verify")
    func metricsOffOrUnwritable() throws {
        let folder = NSTemporaryDirectory() + "valkyrie-metrics-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = "\(folder)/valkyrie.yaml"
        func verify(_ yaml: String) throws -> Subprocess.Result {
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
            return try Subprocess.run(RepositoryCommandTests.valkyrie, ["verify", "--repo", "\(folder)/repo"],
                                      environment: ["PATH": "/usr/bin:/bin", "VALKYRIE_PASSWORD": "metrics", "VALKYRIE_CONFIG": config,
                                                    "VALKYRIE_CATALOG": "\(folder)/catalog.db"])
        }
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: config))
        let made = try Subprocess.run(RepositoryCommandTests.valkyrie, ["init", "--repo", "\(folder)/repo"],
                                      environment: ["PATH": "/usr/bin:/bin", "VALKYRIE_PASSWORD": "metrics", "VALKYRIE_CONFIG": config])
        #expect(made.status == 0, "\(made.stderrText)")

        let off = try verify("monitoring:\n  textfile: \"\"\n")
        #expect(off.status == 0, "\(off.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["repo", "valkyrie.yaml"])

        // A regular file where the folder should be.
        try Data().write(to: URL(fileURLWithPath: "\(folder)/blocker"))
        let blocked = try verify("monitoring:\n  textfile: \(folder)/blocker/valkyrie.prom\n")
        #expect(blocked.status == 0, "\(blocked.stderrText)")
        #expect(blocked.stderrText.contains("valkyrie: warning: metrics file \(folder)/blocker/valkyrie.prom not written"), "\(blocked.stderrText)")

        let written = try verify("monitoring:\n  textfile: \(folder)/prom/valkyrie.prom\n")
        #expect(written.status == 0)
        let file = try Self.read("\(folder)/prom/valkyrie.prom")
        #expect(file[#"valkyrie_last_exit_code{command="verify"}"#] == 0 && file["valkyrie_verify_last_read_data_percent"] == 0)
        #expect(file["valkyrie_sets"] == nil, "no catalog, no catalog series")
    }
}
