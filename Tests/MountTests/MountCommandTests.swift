import Foundation
import Support
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

    /// Starts `valkyrie mount` and waits until the kernel lists the mount.
    static func start(_ lab: LabSet, at mountpoint: String) async throws -> RunningProcess {
        let process = try Subprocess.start(try binary(), ["mount", mountpoint], environment: environment(lab))
        for _ in 0..<300 {
            if try isMounted(mountpoint) { return process }
            if kill(process.pid, 0) != 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.signal(SIGKILL)
        let ended = process.wait()
        throw OperatorError.failed("valkyrie mount did not mount \(mountpoint) (exit \(ended.status)): \(ended.stderr)")
    }

    /// Sends `signal` and waits for the exit status, off the cooperative pool.
    static func stop(_ process: RunningProcess, _ signal: Int32) async throws -> Int32 {
        process.signal(signal)
        return try await onThread { process.wait().status }
    }

    static func isMounted(_ mountpoint: String) throws -> Bool {
        try String(contentsOfFile: "/proc/mounts", encoding: .utf8).contains(" \(mountpoint) ")
    }

    @Test func sigtermUnmountsAndAStaleMountIsExplained() async throws {
        let lab = try await LabSet.make(bigFileBytes: 1 << 20)
        let mountpoint = "\(lab.folder)/mnt"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        defer { _ = try? Subprocess.run("fusermount3", ["-u", "-z", mountpoint]) }

        let served = try await Self.start(lab, at: mountpoint)
        #expect(try Subprocess.check("ls", ["\(mountpoint)/sets"]).stdoutText == "\(lab.sets[0].name)\n")
        #expect(try await Self.stop(served, SIGTERM) == 0)
        #expect(try !Self.isMounted(mountpoint))

        // A crash leaves the mount behind, unusable; the next mount says what happened and how to fix it.
        let crashed = try await Self.start(lab, at: mountpoint)
        #expect(try await Self.stop(crashed, SIGKILL) == 128 + SIGKILL)
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
