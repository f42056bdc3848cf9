import Foundation
import Support
import Testing

/// Drives the built `vaulthalla-lab` binary against the services of `scripts/services` (their env sourced).
enum LabHarness {
    static let environment = ProcessInfo.processInfo.environment

    /// The folder of the test bundle, where SwiftPM put `vaulthalla-lab` too.
    static var binary: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("vaulthalla-lab").path
    }

    static func requireServices() throws {
        let needed = ["VALKYRIE_TEST_PGHOST", "VALKYRIE_TEST_PGPORT", "VALKYRIE_TEST_S3_ENDPOINT", "AWS_ACCESS_KEY_ID",
                      "AWS_SECRET_ACCESS_KEY", "VALKYRIE_TEST_GNUPGHOME", "VALKYRIE_TEST_GPG_FPR"]
        let missing = needed.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw OperatorError.failed("test services are not configured (\(missing.joined(separator: ", ")) unset)",
                                       remedy: "run `scripts/services start DIR` and source DIR/env, or use scripts/test")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw OperatorError.failed("\(binary) is not built", remedy: "run `swift build --build-tests`")
        }
    }

    @discardableResult
    static func lab(_ arguments: [String], extraEnvironment: [String: String] = [:]) throws -> Subprocess.Result {
        try Subprocess.run(binary, arguments, environment: environment.merging(extraEnvironment) { _, new in new })
    }

    /// A lab host in a fresh folder with its own database name, destroyed by `close`.
    final class Host {
        let root: String
        let database: String
        let createResult: Subprocess.Result

        init(profile: String, seed: Int, arguments: [String] = []) throws {
            try LabHarness.requireServices()
            let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
            root = "/tmp/vhlab-\(tag)"
            database = "vhlab_\(tag)"
            createResult = try LabHarness.lab(["create", "--root", root, "--profile", profile, "--seed", String(seed),
                                               "--database", database, "--json"] + arguments)
        }

        var vh: String { "\(root)/bin/vh" }

        func json(_ result: Subprocess.Result) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "not JSON: \(result.stdoutText)")
        }

        func check() throws -> (result: Subprocess.Result, report: [String: Any]) {
            let result = try LabHarness.lab(["check", "--root", root, "--json"])
            return (result, try json(result))
        }

        /// Python's cryptography and hashlib, psql and boto3: no Valkyrie code in the loop.
        func independentCheck(sampleEvery: Int) throws -> (result: Subprocess.Result, report: [String: Any]) {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("independent_check.py").path
            let result = try Subprocess.run("python3", [script, root, String(sampleEvery)], environment: LabHarness.environment)
            return (result, try json(result))
        }

        func close() {
            if (try? LabHarness.lab(["destroy", "--root", root]))?.status != 0 {
                try? FileManager.default.removeItem(atPath: root)
            }
        }
    }
}
