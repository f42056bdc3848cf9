import Foundation
import Support
import Testing

/// `valkyrie init`, `key add|list|remove` and `verify`, driven as an operator would.
@Suite struct RepositoryCommandTests {
    static var valkyrie: String {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("valkyrie").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug/valkyrie").standardizedFileURL.path
    }

    /// A temp folder with a repository location inside, removed afterwards.
    final class Folder {
        let path = NSTemporaryDirectory() + "valkyrie-e2e-repo-\(UUID().uuidString.prefix(8))"
        var repo: String { "\(path)/repo" }
        init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func run(_ arguments: [String], password: String? = "first passphrase", extra: [String: String] = [:]) throws -> Subprocess.Result {
        // Only what the test names: no repository, password or config from the caller's environment.
        var environment = ["PATH": "/usr/bin:/bin"]
        environment["VALKYRIE_PASSWORD"] = password
        environment.merge(extra) { $1 }
        return try Subprocess.run(Self.valkyrie, arguments, environment: environment)
    }

    @Test("init, then key list shows the passphrase slot; a second init of the same place exits 2")
    func initAndList() throws {
        let folder = Folder()
        let created = try run(["init", "--repo", folder.repo, "--json"])
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(created.stdoutText.contains("\"location\""))
        let list = try run(["key", "list", "--repo", folder.repo], password: nil)
        #expect(list.status == 0 && list.stdoutText.contains("passphrase") && list.stdoutText.contains("initial"))
        let again = try run(["init", "--repo", folder.repo])
        #expect(again.status == 2 && again.stderrText.contains("already holds a repository"))
    }

    @Test("the repository comes from $VALKYRIE_REPOSITORY when --repo is absent; --password-file works")
    func locationAndPasswordFile() throws {
        let folder = Folder()
        let passwordFile = "\(folder.path)/pw"
        _ = FileManager.default.createFile(atPath: passwordFile, contents: Data("from a file\n".utf8))
        let created = try run(["init", "--password-file", passwordFile], password: nil, extra: ["VALKYRIE_REPOSITORY": folder.repo])
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(FileManager.default.fileExists(atPath: "\(folder.repo)/config"))
        let verify = try run(["verify", "--repo", folder.repo], password: "from a file")
        #expect(verify.status == 0, "\(verify.stderrText)")
    }

    @Test("a wrong passphrase exits 2 naming the slot; no passphrase at all exits 2 too")
    func wrongPassphrase() throws {
        let folder = Folder()
        #expect(try run(["init", "--repo", folder.repo]).status == 0)
        let wrong = try run(["verify", "--repo", folder.repo], password: "not it")
        #expect(wrong.status == 2)
        #expect(wrong.stderrText.contains("does not open passphrase slot"))
        let none = try run(["verify", "--repo", folder.repo], password: nil)
        #expect(none.status == 2)
        let notRepo = try run(["verify", "--repo", "\(folder.path)/nothing"])
        #expect(notRepo.status == 2 && notRepo.stderrText.contains("not a Valkyrie repository"))
    }

    @Test("key add, then the new passphrase opens it; removing the last portable slot exits 2")
    func addRemove() throws {
        let folder = Folder()
        #expect(try run(["init", "--repo", folder.repo]).status == 0)
        let added = try run(["key", "add", "--passphrase", "--label", "ops", "--repo", folder.repo, "--json"],
                            extra: ["VALKYRIE_NEW_PASSWORD": "second passphrase"])
        #expect(added.status == 0, "\(added.stderrText)")
        let id = try #require(try JSONSerialization.jsonObject(with: added.stdout) as? [String: Any])["id"] as? String
        #expect(try run(["verify", "--repo", folder.repo], password: "second passphrase").status == 0)
        let removed = try run(["key", "remove", String(id!.prefix(8)), "--repo", folder.repo])
        #expect(removed.status == 0, "\(removed.stderrText)")
        let list = try run(["key", "list", "--repo", folder.repo, "--json"], password: nil)
        let slots = try #require(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        #expect(slots.count == 1)
        let last = try run(["key", "remove", String((slots[0]["id"] as! String).prefix(8)), "--repo", folder.repo])
        #expect(last.status == 2 && last.stderrText.contains("last portable slot"))
        let noKind = try run(["key", "add", "--repo", folder.repo])
        #expect(noKind.status == 2)
    }

    @Test("verify, verify --read-data and --read-data=50 exit 0 on a clean repository; a bad percentage exits 2")
    func verifyFlags() throws {
        let folder = Folder()
        #expect(try run(["init", "--repo", folder.repo]).status == 0)
        for flags in [[], ["--read-data"], ["--read-data=50"], ["--read-data", "50"]] {
            let result = try run(["verify", "--repo", folder.repo] + flags)
            #expect(result.status == 0, "\(flags): \(result.stderrText)")
            #expect(result.stdoutText.contains("no problems found"))
        }
        let json = try run(["verify", "--read-data=50", "--repo", folder.repo, "--json"])
        #expect(json.stdoutText.contains("\"subset\""))
        #expect(try run(["verify", "--read-data=0", "--repo", folder.repo]).status == 2)
        #expect(try run(["verify", "--read-data=150", "--repo", folder.repo]).status == 2)
    }

    static func service(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw ServiceMissing(variable: name)
        }
        return value
    }

    struct ServiceMissing: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set: start the test services (scripts/services start DIR, then source DIR/env)" }
    }

    @Test("GPG and TPM slots from the command line: each opens alone, a missing secret key exits 2 naming the slot, GPG counts as portable")
    func gpgAndTPM() throws {
        let home = try Self.service("VALKYRIE_TEST_GNUPGHOME"), fingerprint = try Self.service("VALKYRIE_TEST_GPG_FPR")
        let tcti = try Self.service("VALKYRIE_TEST_TPM_TCTI")
        let folder = Folder()
        let emptyHome = "/tmp/vk-e2e-gpg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: emptyHome, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer {
            _ = try? Subprocess.run("gpgconf", ["--homedir", emptyHome, "--kill", "all"])
            try? FileManager.default.removeItem(atPath: emptyHome)
        }
        let gpgOnly = try run(["init", "--gpg", fingerprint, "--repo", "\(folder.path)/gpg-only"], password: nil, extra: ["GNUPGHOME": home])
        #expect(gpgOnly.status == 0 && gpgOnly.stdoutText.contains("gpg slot"), "\(gpgOnly.stderrText)")
        #expect(try run(["verify", "--repo", "\(folder.path)/gpg-only"], password: nil, extra: ["GNUPGHOME": home]).status == 0)

        #expect(try run(["init", "--repo", folder.repo]).status == 0)
        let gpg = try run(["key", "add", "--gpg", fingerprint, "--repo", folder.repo], extra: ["GNUPGHOME": home])
        #expect(gpg.status == 0, "\(gpg.stderrText)")
        let tpm = try run(["key", "add", "--tpm", "--tcti", tcti, "--repo", folder.repo], extra: ["GNUPGHOME": emptyHome])
        #expect(tpm.status == 0, "\(tpm.stderrText)")

        #expect(try run(["verify", "--repo", folder.repo], password: nil, extra: ["VALKYRIE_TPM_TCTI": tcti, "GNUPGHOME": emptyHome]).status == 0)
        #expect(try run(["verify", "--repo", folder.repo], password: nil, extra: ["GNUPGHOME": home]).status == 0)
        let noKey = try run(["verify", "--repo", folder.repo], password: nil, extra: ["GNUPGHOME": emptyHome])
        #expect(noKey.status == 2 && noKey.stderrText.contains("gpg slot"), "\(noKey.stderrText)")

        let unknown = try run(["key", "add", "--gpg", String(repeating: "CD", count: 20), "--repo", folder.repo], extra: ["GNUPGHOME": home])
        #expect(unknown.status == 2, "\(unknown.stderrText)")

        let list = try run(["key", "list", "--repo", folder.repo, "--json"], password: nil)
        let slots = try #require(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        let ids = Dictionary(slots.map { ($0["kind"] as! String, $0["id"] as! String) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(ids.keys) == ["passphrase", "gpg", "tpm"])
        #expect(try run(["key", "remove", ids["passphrase"]!, "--repo", folder.repo]).status == 0)
        let last = try run(["key", "remove", ids["gpg"]!, "--repo", folder.repo], password: nil, extra: ["GNUPGHOME": home])
        #expect(last.status == 2 && last.stderrText.contains("last portable slot"), "\(last.stderrText)")
    }

    @Test("s3://bucket/prefix picks the S3 backend: init, key list and verify --read-data against moto")
    func s3Repository() throws {
        let endpoint = try Self.service("VALKYRIE_TEST_S3_ENDPOINT")
        _ = try Self.service("AWS_ACCESS_KEY_ID")
        let folder = Folder()
        let bucket = "valkyrie-e2e-\(UUID().uuidString.prefix(8).lowercased())"
        try Subprocess.check("curl", ["-sf", "-X", "PUT", "\(endpoint)/\(bucket)"])
        let config = "\(folder.path)/valkyrie.yaml"
        try Data("s3:\n  endpoint: \(endpoint)\n  region: us-east-1\n  path_style: true\n".utf8).write(to: URL(fileURLWithPath: config))
        let environment = ["VALKYRIE_CONFIG": config].merging(
            ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].reduce(into: [String: String]()) { $0[$1] = ProcessInfo.processInfo.environment[$1] }) { $1 }
        let location = "s3://\(bucket)/valkyrie"
        let created = try run(["init", "--repo", location], extra: environment)
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(created.stdoutText.contains(location))
        #expect(try run(["key", "list", "--repo", location], password: nil, extra: environment).stdoutText.contains("passphrase"))
        let verify = try run(["verify", "--read-data", "--repo", location], extra: environment)
        #expect(verify.status == 0, "\(verify.stderrText)")
        let wrong = try run(["verify", "--repo", location], password: "nope", extra: environment)
        #expect(wrong.status == 2)
    }
}
