import Capture
import Catalog
import Foundation
import S3
import Support
import Testing

/// A moto server of its own with authentication on from the first request: it refuses the backup's
/// credentials the way AWS refuses an unknown access key, and the set fails naming the bucket.
@Suite struct S3RefusalTests {
    @Test("S3 credentials refused: the set fails, naming the bucket and the refusal")
    func credentialsRefused() async throws {
        let lab = try CaptureHarness()
        defer { lab.close() }
        let port = Int.random(in: 20_000..<60_000)
        let moto = Process()
        moto.executableURL = URL(fileURLWithPath: try Subprocess.resolve("moto_server"))
        moto.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        moto.environment = ProcessInfo.processInfo.environment.merging(["INITIAL_NO_AUTH_ACTION_COUNT": "0"]) { $1 }
        moto.standardOutput = FileHandle.nullDevice
        moto.standardError = FileHandle.nullDevice
        try moto.run()
        // SIGKILL: a child started from a test thread may have SIGTERM blocked.
        defer { kill(moto.processIdentifier, SIGKILL); moto.waitUntilExit() }
        var ready = false
        for _ in 0..<150 where !ready {
            let probe = try Subprocess.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"])
            ready = probe.stdoutText != "000"
            if !ready { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(ready, "moto_server did not start on port \(port)")

        var settings = try lab.settings()
        settings.s3 = .init(endpoint: URL(string: "http://127.0.0.1:\(port)")!, region: "us-east-1",
                            credentials: S3Credentials(accessKeyID: "AKIDUNKNOWN", secretAccessKey: "refused"))
        await #expect { _ = try await lab.backup(settings) } throws: { error in
            let text = "\(error)"
            return text.contains("failed at s3") && text.contains("s3://vh-") && text.contains("HTTP 403") && !text.contains("refused\"")
        }
        let sets = try Catalog.open(at: lab.catalogPath).sets(all: true, host: lab.host)
        #expect(sets.map(\.status) == [.failed] && sets[0].error?.contains("403") == true)
    }
}
