import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Support
import Testing
@testable import S3

/// The moto S3 server that `scripts/services` started, and unique buckets on it.
enum MotoS3 {
    /// Retries quick enough for tests, still bounded.
    static let testRetry = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(20), maxDelay: .milliseconds(500),
                                       maxElapsed: .seconds(120), stallTimeout: .seconds(10))

    static func endpoint() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["VALKYRIE_TEST_S3_ENDPOINT"], let url = URL(string: text) else {
            throw OperatorError.failed("VALKYRIE_TEST_S3_ENDPOINT is not set: the S3 integration tests need moto",
                                       remedy: "run scripts/services start DIR and source DIR/env (scripts/test does both)")
        }
        return url
    }

    static func credentials() throws -> S3Credentials { try S3Credentials.fromEnvironment() }

    static func client(endpoint: URL? = nil, retry: RetryPolicy = testRetry,
                       multipart: MultipartPolicy = .standard) throws -> S3Client {
        S3Client(endpoint: try endpoint ?? self.endpoint(), region: "us-east-1", credentials: try credentials(),
                 retry: retry, multipart: multipart)
    }

    /// A bucket name no other test uses.
    static func uniqueBucket(_ purpose: String) -> String {
        "valkyrie-\(purpose)-\(UUID().uuidString.lowercased().prefix(13))"
    }

    /// Creates a unique bucket, runs `body`, then empties and removes the bucket, also when `body` throws.
    static func withBucket<T>(_ purpose: String, client: S3Client? = nil,
                              _ body: (S3Client, String) async throws -> T) async throws -> T {
        let client = try client ?? self.client()
        let bucket = uniqueBucket(purpose)
        try await client.createBucket(bucket)
        do {
            let result = try await body(client, bucket)
            try await removeBucket(bucket)
            return result
        } catch {
            try? await removeBucket(bucket)
            throw error
        }
    }

    /// Empties and deletes a bucket directly on moto (not through a fault proxy).
    static func removeBucket(_ bucket: String) async throws {
        let direct = try client()
        for object in try await direct.listObjects(bucket: bucket) {
            try await direct.deleteObject(bucket: bucket, key: object.key)
        }
        try await direct.deleteBucket(bucket)
    }

    static func random(_ count: Int, seed: UInt64) -> Data {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var data = Data(capacity: count)
        while data.count < count {
            // splitmix64: fast, reproducible bytes.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { data.append(contentsOf: $0.prefix(count - data.count)) }
        }
        return data
    }
}

/// `fault_proxy.py` in front of an S3 server, as a child process stopped by `stop()` (and, should the test
/// process die, by its stdin closing).
final class FaultProxy: @unchecked Sendable {
    let endpoint: URL
    private let process: Process
    private let stdin: Pipe

    struct Counts: Decodable, Sendable {
        var requests: Int
        var failed: Int
        var cut: Int
        var forwarded: Int
        var seen: Int?
    }

    init(upstream: URL, failRate: Double = 0.05, cutRate: Double = 0.02, seed: Int = 1, stallFirst: Int = 0,
         deny: String? = nil, denyMatching: String? = nil) throws {
        guard let script = Bundle.module.url(forResource: "fault_proxy", withExtension: "py", subdirectory: "Resources") else {
            throw OperatorError.failed("fault_proxy.py is missing from the S3Tests bundle")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.resolve("python3"))
        var arguments = [script.path, upstream.absoluteString, "--fail-rate", String(failRate), "--cut-rate",
                         String(cutRate), "--seed", String(seed)]
        if stallFirst > 0 { arguments += ["--stall-first", String(stallFirst)] }
        if let deny { arguments += ["--deny", deny] }
        if let denyMatching { arguments += ["--deny-matching", denyMatching] }
        process.arguments = arguments
        let out = Pipe()
        stdin = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        process.standardError = FileHandle.standardError
        try process.run()
        let text = firstLine(of: out)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)),
              let url = URL(string: "http://127.0.0.1:\(port)") else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw OperatorError.failed("fault_proxy.py did not start (said: \(text))")
        }
        endpoint = url
    }

    func counts() async throws -> Counts {
        let (data, _) = try await URLSession.shared.data(from: endpoint.appendingPathComponent("__faults"))
        return try JSONDecoder().decode(Counts.self, from: data)
    }

    /// SIGKILL, as for `AuthenticatingMoto`: SIGTERM may be blocked in a child spawned from a test thread.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Runs `body` with a started proxy and stops it afterwards, also when `body` throws.
    static func with<T>(upstream: URL, failRate: Double = 0.05, cutRate: Double = 0.02, seed: Int = 1, stallFirst: Int = 0,
                        deny: String? = nil, denyMatching: String? = nil,
                        _ body: (FaultProxy) async throws -> T) async throws -> T {
        let proxy = try FaultProxy(upstream: upstream, failRate: failRate, cutRate: cutRate, seed: seed, stallFirst: stallFirst,
                                   deny: deny, denyMatching: denyMatching)
        do {
            let result = try await body(proxy)
            proxy.stop()
            return result
        } catch {
            proxy.stop()
            throw error
        }
    }
}

/// The first line a child wrote to `pipe` (with its newline), or all it wrote before closing it.
func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
    }
    return String(decoding: line, as: UTF8.self)
}

/// Whether `error` is an operator error whose problem mentions every one of `parts`.
func isOperatorError(_ error: any Error, status: Support.ExitStatus? = nil, mentioning parts: String...) -> Bool {
    guard let error = error as? OperatorError else { return false }
    if let status, error.status != status { return false }
    return parts.allSatisfy { error.problem.contains($0) }
}

/// Runs `body` with a server started for one test, and stops the server afterwards, also when `body` throws.
func withStopping<Server>(_ server: Server, stop: (Server) -> Void, _ body: (Server) async throws -> Void) async throws {
    do {
        try await body(server)
        stop(server)
    } catch {
        stop(server)
        throw error
    }
}
