import Foundation
import Support
import Testing

/// `valkyrie init` and `verify` on an `s3://` repository, the endpoint from the configuration file, the
/// credentials from the environment; moto's S3 server from `scripts/services`.
@Suite struct S3RepositoryCommandTests {
    @Test("init and verify on s3://bucket/prefix; a missing bucket exits 2 naming it")
    func initAndVerifyOnS3() throws {
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

        let bucket = "valkyrie-e2e-\(UUID().uuidString.lowercased().prefix(12))"
        // moto takes an unsigned bucket creation; the CLI itself never creates buckets.
        try Subprocess.check("curl", ["-fsS", "-X", "PUT", "\(endpoint)/\(bucket)"])

        func valkyrie(_ arguments: [String]) throws -> Subprocess.Result {
            try Subprocess.run(RepositoryCommandTests.valkyrie, arguments + ["--config", config], environment: [
                "PATH": "/usr/bin:/bin", "VALKYRIE_PASSWORD": "s3 passphrase",
                "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
            ])
        }
        let created = try valkyrie(["init", "--repo", "s3://\(bucket)/hosts/a", "--json"])
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(created.stdoutText.contains("s3://\(bucket)/hosts/a/"))
        let verified = try valkyrie(["verify", "--repo", "s3://\(bucket)/hosts/a"])
        #expect(verified.status == 0, "\(verified.stderrText)")

        let missing = try valkyrie(["verify", "--repo", "s3://\(bucket)-missing/x"])
        #expect(missing.status == 2, "\(missing.stdoutText) \(missing.stderrText)")
        #expect((missing.stdoutText + missing.stderrText).contains("NoSuchBucket"))
    }
}
