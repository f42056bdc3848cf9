import Foundation
import Support
import Testing
@testable import S3
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A moto server of its own with authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`): after the first three
/// actions, which create an IAM user, its access key and an allow-all S3 policy, moto checks every request's
/// SigV4 signature against the secret it issued, the way AWS does. The shared moto accepts any signature, so
/// only here does a wrong signature get refused by a real verifier.
final class AuthenticatingMoto: @unchecked Sendable {
    let endpoint: URL
    private let process: Process

    init() async throws {
        let port = String(try LoopbackPort.freePair())
        endpoint = URL(string: "http://127.0.0.1:\(port)")!
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.resolve("moto_server"))
        process.arguments = ["-H", "127.0.0.1", "-p", port]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // moto imports slowly on a loaded 2-core machine: allow it time rather than fail the suite.
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            if let (_, response) = try? await URLSession.shared.data(from: endpoint.appendingPathComponent("moto-api/")),
               (response as? HTTPURLResponse)?.statusCode == 200 { break }
            guard ContinuousClock.now < deadline, process.isRunning else {
                stop()
                throw OperatorError.failed("moto_server with authentication did not start on port \(port)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// SIGKILL: a child spawned from a test thread inherits that thread's signal mask, where SIGTERM may be
    /// blocked, and moto would then never see it.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// An IAM user with an access key allowed every S3 action (the three unauthenticated actions).
    func createUser() async throws -> S3Credentials {
        let bootstrap = S3Credentials(accessKeyID: "AKIDBOOTSTRAP", secretAccessKey: "unchecked")
        _ = try await iam(["Action": "CreateUser", "UserName": "valkyrie"], bootstrap)
        let key = try await iam(["Action": "CreateAccessKey", "UserName": "valkyrie"], bootstrap)
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try await iam(["Action": "PutUserPolicy", "UserName": "valkyrie", "PolicyName": "all", "PolicyDocument": policy], bootstrap)
        guard let result = S3XML.parse(key)?["CreateAccessKeyResult"]?["AccessKey"],
              let id = result["AccessKeyId"]?.text, let secret = result["SecretAccessKey"]?.text else {
            throw OperatorError.failed("moto's CreateAccessKey answered no key")
        }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret)
    }

    /// An IAM query action, signed with SigV4 for service "iam" (moto routes on the signature's scope).
    private func iam(_ parameters: [String: String], _ credentials: S3Credentials) async throws -> Data {
        let form = (parameters.merging(["Version": "2010-05-08"]) { a, _ in a })
            .map { "\(S3URI.encode($0.key, encodeSlash: true))=\(S3URI.encode($0.value, encodeSlash: true))" }
            .joined(separator: "&")
        let body = Data(form.utf8)
        let now = Date()
        let headers = ["host": "\(endpoint.host!):\(endpoint.port!)", "x-amz-date": SigV4.timestamp(now),
                       "content-type": "application/x-www-form-urlencoded"]
        let signature = SigV4.sign(SigV4.Request(method: "POST", encodedPath: "/", headers: headers,
                                                 payloadHash: SigV4.sha256Hex(body)),
                                   credentials: credentials, region: "us-east-1", service: "iam", date: now)
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.httpBody = body
        for (name, value) in headers where name != "host" { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue(signature.authorization, forHTTPHeaderField: "Authorization")
        request.setValue("close", forHTTPHeaderField: "Connection")  // see S3Transport: no body re-sends
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw OperatorError.failed("moto IAM \(parameters["Action"] ?? "") failed: \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    static func with(_ body: (AuthenticatingMoto, S3Credentials) async throws -> Void) async throws {
        try await withStopping(try await AuthenticatingMoto(), stop: { $0.stop() }) { moto in
            try await body(moto, try await moto.createUser())
        }
    }
}

@Suite struct S3AuthenticationTests {
    @Test func aVerifyingServerAcceptsEverySignedRequestAndRefusesWrongKeys() async throws {
        try await AuthenticatingMoto.with { moto, credentials in
            let client = S3Client(endpoint: moto.endpoint, region: "us-east-1", credentials: credentials,
                                  retry: MotoS3.testRetry, multipart: MultipartPolicy(threshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024))
            // Every kind of request the client makes, each one checked by moto's verifier.
            let bucket = MotoS3.uniqueBucket("auth")
            try await client.createBucket(bucket)
            #expect(try await client.bucketExists(bucket))
            // moto rebuilds the path it checks from werkzeug's decoded URL, which leaves `$ + = & ! ' ( ) * , ; : @`
            // bare and mangles non-ASCII, so it refuses correct signatures for such keys (AWS's own PUT example,
            // `test$file.text` signed as `/test%24file.text`, is in SigV4Tests). Here: what moto rebuilds exactly.
            let key = "dir with space/key-1_2.3~4.bin"
            let small = MotoS3.random(70_000, seed: 5)
            try await client.putObject(bucket: bucket, key: key, data: small, metadata: ["vh-iv": "abc=="])
            #expect(try await client.getObject(bucket: bucket, key: key).data == small)
            #expect(try await client.getObject(bucket: bucket, key: key, range: 100..<200).data == small.subdata(in: 100..<200))
            #expect(try await client.headObject(bucket: bucket, key: key)?.metadata["vh-iv"] == "abc==")
            let big = MotoS3.random(13 * 1024 * 1024, seed: 6)
            #expect(try await client.putObject(bucket: bucket, key: "big", data: big).hasSuffix("-3"))
            #expect(try await client.getObject(bucket: bucket, key: "big").data == big)
            #expect(Set(try await client.listObjects(bucket: bucket, prefix: "").map(\.key)) == [key, "big"])
            try await client.deleteObject(bucket: bucket, key: key)
            try await client.deleteObject(bucket: bucket, key: "big")

            // The right key id with a wrong secret, and a key id moto never issued.
            let wrongSecret = "wrong-\(credentials.secretAccessKey)"
            let refusals = [
                (S3Credentials(accessKeyID: credentials.accessKeyID, secretAccessKey: wrongSecret), "SignatureDoesNotMatch"),
                (S3Credentials(accessKeyID: "AKIANEVERISSUED0000", secretAccessKey: wrongSecret), "InvalidAccessKeyId"),
            ]
            for (bad, code) in refusals {
                let refused = S3Client(endpoint: moto.endpoint, region: "us-east-1", credentials: bad, retry: MotoS3.testRetry)
                await #expect {
                    try await refused.getObject(bucket: bucket, key: "any")
                } throws: { error in
                    guard let error = error as? OperatorError else { return false }
                    return error.status == .usage && error.problem.contains(code) && error.problem.contains("s3://\(bucket)/any")
                        && !error.description.contains(wrongSecret) && error.remedy?.contains("credentials") == true
                }
            }
            try await client.deleteBucket(bucket)
        }
    }
}
