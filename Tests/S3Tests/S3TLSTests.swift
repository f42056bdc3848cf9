import Foundation
import Repository
import Support
import Testing
@testable import S3

/// A moto server of its own speaking https with a certificate for 127.0.0.1 (an IP SAN) from a throwaway CA,
/// made with the `openssl` CLI in a temporary folder that `stop()` removes.
final class TLSMoto: @unchecked Sendable {
    let endpoint: URL
    let folder: URL
    var caFile: String { folder.appendingPathComponent("ca.pem").path }
    private let process: Process

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("valkyrie-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let port = String(try LoopbackPort.freePair())
        endpoint = URL(string: "https://127.0.0.1:\(port)")!
        process = Process()
        do {
            try Self.makeCertificates(in: folder)
            process.executableURL = URL(fileURLWithPath: try Subprocess.resolve("moto_server"))
            process.arguments = ["-H", "127.0.0.1", "-p", port, "--ssl-cert", folder.appendingPathComponent("server.pem").path,
                                 "--ssl-key", folder.appendingPathComponent("server.key").path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // moto imports slowly on a loaded 2-core machine: allow it time rather than fail the suite.
            let probe = client(caFile: caFile, retry: .none)
            let deadline = ContinuousClock.now + .seconds(120)
            while (try? await probe.bucketExists("probe")) == nil {
                guard ContinuousClock.now < deadline, process.isRunning else {
                    throw OperatorError.failed("moto_server with TLS did not start on port \(port)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        } catch {
            stop()
            throw error
        }
    }

    /// ca.pem (self-signed CA) and server.pem/server.key (for IP 127.0.0.1, signed by the CA).
    private static func makeCertificates(in folder: URL) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Subprocess.check("openssl", ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                                                              "-subj", "/CN=valkyrie test CA"], currentDirectory: folder.path)
        try Subprocess.check("openssl", ["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
                             currentDirectory: folder.path)
        try Data("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: folder.appendingPathComponent("server.ext"))
        try Subprocess.check("openssl", ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                                         "-out", "server.pem", "-days", "2", "-extfile", "server.ext"], currentDirectory: folder.path)
    }

    func client(endpoint: URL? = nil, caFile: String?, retry: RetryPolicy = MotoS3.testRetry) -> S3Client {
        S3Client(endpoint: endpoint ?? self.endpoint, region: "us-east-1",
                 credentials: S3Credentials(accessKeyID: "valkyrie-tls", secretAccessKey: "unchecked"), retry: retry, caFile: caFile)
    }

    /// SIGKILL (see AuthenticatingMoto), then the certificates' folder goes.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if process.processIdentifier != 0 { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: folder)
    }

    static func with(_ body: (TLSMoto) async throws -> Void) async throws {
        try await withStopping(try await TLSMoto(), stop: { $0.stop() }, body)
    }
}

@Suite struct S3TLSTests {
    @Test func putGetListOverTLSWithTheOperatorsCA() async throws {
        try await TLSMoto.with { moto in
            let client = moto.client(caFile: moto.caFile)
            let bucket = MotoS3.uniqueBucket("tls")
            try await client.createBucket(bucket)
            let small = MotoS3.random(10_000, seed: 21)
            let large = MotoS3.random(3 * 1024 * 1024 + 17, seed: 22)
            try await client.putObject(bucket: bucket, key: "tls/small", data: small, metadata: ["kind": "small"])
            try await client.putObject(bucket: bucket, key: "tls/large & odd?", data: large)
            let got = try await client.getObject(bucket: bucket, key: "tls/small")
            #expect(got.data == small)
            #expect(got.info.metadata["kind"] == "small")
            #expect(try await client.getObject(bucket: bucket, key: "tls/large & odd?").data == large)
            #expect(try await client.getObject(bucket: bucket, key: "tls/large & odd?", range: 1000..<2000).data == large.subdata(in: 1000..<2000))
            #expect(try await client.listObjects(bucket: bucket, prefix: "tls/").map(\.key) == ["tls/large & odd?", "tls/small"])
            #expect(try await client.headObject(bucket: bucket, key: "tls/missing") == nil)
            for key in ["tls/small", "tls/large & odd?"] { try await client.deleteObject(bucket: bucket, key: key) }
            try await client.deleteBucket(bucket)
        }
    }

    @Test func aCertificateTheSystemDoesNotTrustOrForAnotherNameIsRefusedClearly() async throws {
        try await TLSMoto.with { moto in
            // The system's CAs do not know the throwaway CA.
            await #expect {
                try await moto.client(caFile: nil).listObjects(bucket: "any-bucket")
            } throws: { error in
                guard let error = error as? OperatorError else { return false }
                return error.status == .failed && error.problem.contains(moto.endpoint.absoluteString)
                    && error.problem.contains("certificate is not trusted") && !error.problem.contains("attempts")
                    && error.remedy?.contains("ca_file") == true
            }
            // The right CA, but the certificate names 127.0.0.1, not localhost.
            let port = try #require(moto.endpoint.port)
            let byName = try #require(URL(string: "https://localhost:\(port)"))
            await #expect {
                try await moto.client(endpoint: byName, caFile: moto.caFile).listObjects(bucket: "any-bucket")
            } throws: { error in
                guard let error = error as? OperatorError else { return false }
                return error.problem.contains("https://localhost:\(port)") && error.problem.contains("mismatch")
                    && error.remedy?.contains("certificate was issued for") == true
            }
        }
    }

    @Test func theConfiguredCAFileReachesTheClient() throws {
        let settings = S3BackendSettings(endpoint: "https://minio.example:9000", caFile: "/etc/valkyrie/minio-ca.pem",
                                         accessKeyID: "a", secretAccessKey: "b")
        #expect(try S3Backend(location: "s3://bkt/p", settings: settings).client.caFile == "/etc/valkyrie/minio-ca.pem")
        #expect(try S3Backend(location: "s3://bkt/p", settings: S3BackendSettings(accessKeyID: "a", secretAccessKey: "b")).client.caFile == nil)
    }

    @Test func aCAFileThatCannotBeLoadedIsBadInput() async throws {
        let client = S3Client(endpoint: URL(string: "https://127.0.0.1:9")!, region: "us-east-1",
                              credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), retry: .none,
                              caFile: "/nonexistent/valkyrie-ca.pem")
        await #expect {
            try await client.getObject(bucket: "b", key: "k")
        } throws: { isOperatorError($0, status: .usage, mentioning: "/nonexistent/valkyrie-ca.pem", "https://127.0.0.1:9") }
    }
}
