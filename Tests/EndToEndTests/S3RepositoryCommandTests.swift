import Foundation
import Support
import Testing

/// What an operator sees when an `s3://` repository's settings are wrong (the working case is in
/// RepositoryCommandTests): moto's S3 server from `scripts/services`.
@Suite struct S3RepositoryCommandTests {
    @Test("a missing bucket exits 2 naming NoSuchBucket; missing credentials exit 2 naming the variable")
    func wrongS3Settings() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["VALKYRIE_TEST_S3_ENDPOINT"], let key = environment["AWS_ACCESS_KEY_ID"],
              let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            Issue.record("VALKYRIE_TEST_S3_ENDPOINT and AWS_* are not set: run scripts/services start DIR and source DIR/env")
            return
        }
        let folder = NSTemporaryDirectory() + "valkyrie-e2e-s3-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = "\(folder)/valkyrie.yaml"
        try Data("s3:\n  endpoint: \(endpoint)\n  region: us-east-1\n".utf8).write(to: URL(fileURLWithPath: config))

        func valkyrie(_ arguments: [String], credentials: Bool = true) throws -> Subprocess.Result {
            var environment = ["PATH": "/usr/bin:/bin", "VALKYRIE_PASSWORD": "s3 passphrase"]
            if credentials {
                environment["AWS_ACCESS_KEY_ID"] = key
                environment["AWS_SECRET_ACCESS_KEY"] = secret
            }
            return try Subprocess.run(RepositoryCommandTests.valkyrie, arguments + ["--config", config], environment: environment)
        }
        let bucket = "valkyrie-e2e-absent-\(UUID().uuidString.lowercased().prefix(8))"
        let missing = try valkyrie(["verify", "--repo", "s3://\(bucket)/x"])
        #expect(missing.status == 2, "\(missing.stdoutText) \(missing.stderrText)")
        #expect(missing.stderrText.contains("NoSuchBucket") && missing.stderrText.contains(bucket), "\(missing.stderrText)")

        let anonymous = try valkyrie(["init", "--repo", "s3://\(bucket)/x"], credentials: false)
        #expect(anonymous.status == 2)
        #expect(anonymous.stderrText.contains("AWS_ACCESS_KEY_ID"), "\(anonymous.stderrText)")
    }
}
