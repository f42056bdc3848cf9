import Foundation
import Support
import Testing
@testable import S3

/// A loopback port that accepts connections (the kernel completes them into the listen queue) and never
/// answers: a python3 child, stopped when its stdin closes or by `stop()`.
final class SilentListener: @unchecked Sendable {
    let endpoint: URL
    private let process: Process
    private let stdin = Pipe()

    init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.resolve("python3"))
        process.arguments = ["-c", """
            import socket, sys
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(64)
            print("PORT", s.getsockname()[1], flush=True)
            sys.stdin.read()
            """]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        let text = firstLine(of: out).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let url = URL(string: "http://127.0.0.1:\(text.dropFirst(5))") else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw OperatorError.failed("the silent listener did not start (said: \(text))")
        }
        endpoint = url
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    static func with(_ body: (SilentListener) async throws -> Void) async throws {
        try await withStopping(try SilentListener(), stop: { $0.stop() }, body)
    }
}

@Suite struct S3TransportTests {
    private static let credentials = S3Credentials(accessKeyID: "a", secretAccessKey: "b")

    @Test func aServerThatNeverAnswersFailsAfterTheStallTimeoutAndIsRetried() async throws {
        try await SilentListener.with { listener in
            // Only the attempt count may end it: a loaded machine must not turn this into another failure.
            let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10),
                                    maxElapsed: .seconds(3600), stallTimeout: .milliseconds(300))
            let client = S3Client(endpoint: listener.endpoint, region: "us-east-1", credentials: Self.credentials, retry: retry)
            await #expect {
                try await client.putObject(bucket: "b", key: "k", data: Data("x".utf8))
            } throws: { isOperatorError($0, status: .failed, mentioning: "after 2 attempts", "no progress", "s3://b/k") }
        }
    }

    @Test func cancellingTheTaskEndsAStuckRequest() async throws {
        try await SilentListener.with { listener in
            // A stall timeout far beyond the test: only the cancellation can end the request.
            let retry = RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero, maxElapsed: .seconds(3600),
                                    stallTimeout: .seconds(3600))
            let client = S3Client(endpoint: listener.endpoint, region: "us-east-1", credentials: Self.credentials, retry: retry)
            let request = Task { try await client.getObject(bucket: "b", key: "k") }
            try await Task.sleep(for: .milliseconds(300))
            request.cancel()
            let result = await request.result
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test func aNameThatDoesNotResolveSaysSo() async throws {
        let client = S3Client(endpoint: URL(string: "http://valkyrie-no-such-host.invalid:9000")!, region: "us-east-1",
                              credentials: Self.credentials,
                              retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10),
                                                 maxElapsed: .seconds(3600)))
        await #expect {
            try await client.headObject(bucket: "b", key: "k")
        } throws: { isOperatorError($0, status: .failed, mentioning: "cannot resolve valkyrie-no-such-host.invalid") }
    }
}
