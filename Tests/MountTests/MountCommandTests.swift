import Foundation
import Support
import Synchronization
import Testing

/// `valkyrie mount` as a process: SIGTERM unmounts it cleanly; a mount left stale by a killed process is
/// explained on the next mount, with the fix.
@Suite(.serialized) struct MountCommandTests {
    static func binary() throws -> String {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for directory in candidates {
            let path = directory.appendingPathComponent("valkyrie").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw OperatorError.failed("the valkyrie binary is not built next to the tests", remedy: "run swift build --build-tests")
    }

    static func environment(_ lab: LabSet) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["VALKYRIE_CONFIG"] = nil
        environment["VALKYRIE_PASSWORD"] = String(decoding: LabSet.passphrase, as: UTF8.self)
        environment["VALKYRIE_REPOSITORY"] = lab.repositoryPath
        environment["VALKYRIE_CATALOG"] = lab.catalogPath
        return environment
    }

    /// A `valkyrie mount` process (spawned through `Subprocess`, so signals reach it unblocked).
    final class Served: Sendable {
        let pid: pid_t
        /// The exit status once the process is gone (-1 while it runs).
        private final class Exit: Sendable {
            let status = Mutex<Int32>(-1)
            let done = DispatchSemaphore(value: 0)
        }
        private let exit = Exit()

        init(_ lab: LabSet, at mountpoint: String) async throws {
            let pidFile = "\(mountpoint).pid", binary = try MountCommandTests.binary()
            try? FileManager.default.removeItem(atPath: pidFile)
            let environment = MountCommandTests.environment(lab), exit = self.exit
            Thread.detachNewThread {
                let result = try? Subprocess.run("sh", ["-c", "echo $$ > '\(pidFile)'; exec '\(binary)' mount '\(mountpoint)'"],
                                                 environment: environment, captureOutput: false)
                exit.status.withLock { $0 = result?.status ?? -2 }
                exit.done.signal()
            }
            for _ in 0..<300 {
                if try MountCommandTests.isMounted(mountpoint), let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                   let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    self.pid = pid
                    return
                }
                if exit.status.withLock({ $0 }) != -1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw OperatorError.failed("valkyrie mount did not mount \(mountpoint) (exit status \(exit.status.withLock { $0 }))")
        }

        /// Sends `signal` and waits for the exit status.
        func stop(_ signal: Int32) async throws -> Int32 {
            kill(pid, signal)
            let exit = self.exit
            try await onThread { exit.done.wait() }
            return exit.status.withLock { $0 }
        }
    }

    static func isMounted(_ mountpoint: String) throws -> Bool {
        try String(contentsOfFile: "/proc/mounts", encoding: .utf8).contains(" \(mountpoint) ")
    }

    @Test func sigtermUnmountsAndAStaleMountIsExplained() async throws {
        let lab = try await LabSet.make(bigFileBytes: 1 << 20)
        let mountpoint = "\(lab.folder)/mnt"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        defer { _ = try? Subprocess.run("fusermount3", ["-u", "-z", mountpoint]) }

        let served = try await Served(lab, at: mountpoint)
        #expect(try Subprocess.check("ls", ["\(mountpoint)/sets"]).stdoutText == "\(lab.sets[0].name)\n")
        #expect(try await served.stop(SIGTERM) == 0)
        #expect(try !Self.isMounted(mountpoint))

        // A crash leaves the mount behind, unusable; the next mount says what happened and how to fix it.
        let crashed = try await Served(lab, at: mountpoint)
        #expect(try await crashed.stop(SIGKILL) == 128 + SIGKILL)
        let again = try Subprocess.run(try Self.binary(), ["mount", mountpoint], environment: Self.environment(lab))
        #expect(again.status == 1)
        #expect(again.stderrText.contains("stale mount") && again.stderrText.contains("fusermount3 -u \(mountpoint)"), "\(again.stderrText)")
        try Subprocess.check("fusermount3", ["-u", mountpoint])
        #expect(try !Self.isMounted(mountpoint))
    }

    @Test func badFlagsAreUsageErrors() throws {
        let both = try Subprocess.run(try Self.binary(), ["mount", "/tmp", "--unlock", "--keys", "/dev/null"])
        #expect(both.status == 2 && both.stderrText.contains("--unlock or --keys"))
        let missing = try Subprocess.run(try Self.binary(), ["mount"])
        #expect(missing.status == 2)
    }
}
