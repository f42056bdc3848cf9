import Capture
import Catalog
import Foundation
import Repository
import Support

/// A tiny lab host backed up once by the built `valkyrie` (GPG slot, the test keyring): the good set every drill
/// test starts from. Made on first use; `destroy()` removes host, repository and catalog.
final class DrillFixture: Sendable {
    static let environment = ProcessInfo.processInfo.environment
    let folder: String
    let root: String
    let repository: Repository
    let catalogPath: String
    let good: SetRecord

    /// The folder of the built binaries (next to the test bundle).
    static var bin: String {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("valkyrie").path) { return folder.path }
            folder = folder.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug").standardizedFileURL.path
    }

    static func require(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw OperatorError.failed("test services are not configured (\(name) unset)",
                                       remedy: "run `scripts/services start DIR` and source DIR/env, or use scripts/test")
        }
        return value
    }

    init() async throws {
        let pgBin = try Self.require("VALKYRIE_TEST_PGBIN"), gnupg = try Self.require("VALKYRIE_TEST_GNUPGHOME")
        let fpr = try Self.require("VALKYRIE_TEST_GPG_FPR"), s3 = try Self.require("VALKYRIE_TEST_S3_ENDPOINT")
        _ = try Self.require("VALKYRIE_TEST_PGHOST")
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        folder = "/tmp/vkdrill-\(tag)"
        root = "\(folder)/host"
        catalogPath = "\(folder)/catalog.db"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let made = try Subprocess.run("\(Self.bin)/vaulthalla-lab", ["create", "--root", root, "--profile", "tiny", "--database", "vkdrill_\(tag)"])
        guard made.status == 0 else { throw OperatorError.failed("vaulthalla-lab create: \(made.stderrSummary)") }
        let config = """
            repository: "\(folder)/repo"
            catalog: "\(catalogPath)"
            host:
              root: "\(root)"
              name: "drill-host"
            postgres:
              bin_dir: "\(pgBin)"
            exports:
              recipient: "\(fpr)"
              gnupghome: "\(gnupg)"
            s3_capture:
              endpoint: "\(s3)"
            maintenance:
              stop: ["true"]
              start: ["true"]

            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: "\(folder)/valkyrie.yaml"))
        for arguments in [["init", "--gpg", fpr], ["backup"]] {
            let result = try Self.valkyrie(arguments, folder: folder)
            guard result.status == 0 || (arguments[0] == "backup" && result.status == 3) else {
                throw OperatorError.failed("valkyrie \(arguments[0]): \(result.stderrText)")
            }
        }
        repository = try await Repository.open(backend: LocalBackend(path: "\(folder)/repo"), unlock: [.gpg(homeDirectory: gnupg)])
        guard let set = try Catalog.open(at: catalogPath).latestSet() else { throw OperatorError.failed("the backup recorded no set") }
        good = set
    }

    static func valkyrie(_ arguments: [String], folder: String) throws -> Subprocess.Result {
        let env = environment
        return try Subprocess.run("\(bin)/valkyrie", arguments, environment: [
            "PATH": "/usr/bin:/bin", "VALKYRIE_CONFIG": "\(folder)/valkyrie.yaml", "GNUPGHOME": env["VALKYRIE_TEST_GNUPGHOME"] ?? "",
            "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"] ?? "", "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"] ?? "",
            "AWS_DEFAULT_REGION": env["AWS_DEFAULT_REGION"] ?? "us-east-1"])
    }

    func catalog() throws -> Catalog { try Catalog.open(at: catalogPath) }

    func destroy() {
        _ = try? Subprocess.run("\(Self.bin)/vaulthalla-lab", ["destroy", "--root", root])
        try? FileManager.default.removeItem(atPath: folder)
    }
}
