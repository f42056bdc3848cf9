import Foundation
import Support
import Testing

/// The shipped systemd units pass `systemd-analyze verify` (with the built binary standing in for /usr/bin/valkyrie,
/// which verify requires to exist), and the timers keep the schedule the README documents.
@Suite struct SystemdUnitTests {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path
    static let units = ["valkyrie-backup.service", "valkyrie-backup.timer", "valkyrie-drill.service", "valkyrie-drill.timer",
                        "valkyrie-prune.service", "valkyrie-prune.timer"]

    /// The units copied into a temp folder with ExecStart pointing at `binary`.
    final class Copy {
        let path = NSTemporaryDirectory() + "valkyrie-units-\(UUID().uuidString.prefix(8))"
        init(binary: String) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let files = (SystemdUnitTests.units + ["valkyrie-mount@.service"]).map { "\(SystemdUnitTests.source)/systemd/\($0)" }
            for file in files {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                    .replacingOccurrences(of: "/usr/bin/valkyrie", with: binary)
                try Data(text.utf8).write(to: URL(fileURLWithPath: "\(path)/\((file as NSString).lastPathComponent)"))
            }
        }

        /// `systemd-analyze verify` of the units (man pages are checked by the .deb test, where they are installed).
        func verify(_ units: [String]) throws -> Subprocess.Result {
            try Subprocess.run("/usr/bin/env", ["-C", path, "systemd-analyze", "verify", "--man=no"] + units.map { "./\($0)" })
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("every unit, and an instance of the mount template, passes systemd-analyze verify")
    func verifies() throws {
        let copy = try Copy(binary: RepositoryCommandTests.valkyrie)
        let result = try copy.verify(Self.units)
        #expect(result.status == 0 && result.stderrText.isEmpty && result.stdoutText.isEmpty, "\(result.stdoutText)\(result.stderrText)")
        // A template is verified as an instance: the mountpoint /srv/valkyrie, escaped.
        try FileManager.default.copyItem(atPath: "\(copy.path)/valkyrie-mount@.service", toPath: "\(copy.path)/valkyrie-mount@srv-valkyrie.service")
        let mount = try copy.verify(["valkyrie-mount@srv-valkyrie.service"])
        #expect(mount.status == 0 && mount.stderrText.isEmpty, "\(mount.stdoutText)\(mount.stderrText)")
    }

    @Test("verify is a real check: a unit whose binary is missing fails it")
    func missingBinaryFails() throws {
        let copy = try Copy(binary: "/nonexistent/valkyrie")
        let result = try copy.verify(["valkyrie-backup.service"])
        #expect(result.status != 0 && result.stderrText.contains("/nonexistent/valkyrie"), "\(result.stderrText)")
    }

    @Test("timers: nightly backup, monthly drill, weekly prune, each randomized and persistent; services run the right command")
    func schedules() throws {
        func unit(_ name: String) throws -> String { try String(contentsOfFile: "\(Self.source)/systemd/\(name)", encoding: .utf8) }
        let expected = ["valkyrie-backup": ("*-*-* 02:00:00", "backup"), "valkyrie-drill": ("*-*-01 05:00:00", "drill"),
                        "valkyrie-prune": ("Sun *-*-* 06:00:00", "forget --prune")]
        for (name, (calendar, command)) in expected {
            let timer = try unit("\(name).timer")
            #expect(timer.contains("OnCalendar=\(calendar)\n") && timer.contains("Persistent=true\n") && timer.contains("RandomizedDelaySec="))
            #expect(timer.contains("WantedBy=timers.target"))
            let service = try unit("\(name).service")
            #expect(service.contains("ExecStart=/usr/bin/valkyrie \(command)\n") && service.contains("Type=oneshot"))
            #expect(service.contains("NoNewPrivileges=yes") && service.contains("PrivateTmp=yes") && service.contains("ProtectSystem="))
            let next = try Subprocess.run("systemd-analyze", ["calendar", calendar])
            #expect(next.status == 0 && next.stdoutText.contains("Next elapse:"), "\(next.stderrText)")
        }
    }
}
