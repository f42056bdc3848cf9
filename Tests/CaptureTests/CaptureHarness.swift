import Capture
import Catalog
import Foundation
import Lab
import Repository
import S3
import Support
import Testing
import Vaulthalla

/// A tiny lab host (made by the built `vaulthalla-lab`), a local repository with a GPG key slot and a catalog,
/// in one temp folder; `close()` destroys the host and removes the folder.
final class CaptureHarness: @unchecked Sendable {
    static let environment = ProcessInfo.processInfo.environment
    let folder: String
    let root: String
    let database: String
    let host: String
    let repositoryPath: String
    let catalogPath: String

    static var labBinary: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("vaulthalla-lab").path
    }

    static func requireServices() throws {
        let needed = ["VALKYRIE_TEST_PGHOST", "VALKYRIE_TEST_PGPORT", "VALKYRIE_TEST_PGBIN", "VALKYRIE_TEST_S3_ENDPOINT",
                      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "VALKYRIE_TEST_GNUPGHOME", "VALKYRIE_TEST_GPG_FPR",
                      "VALKYRIE_TEST_GPG_OTHER_FPR"]
        let missing = needed.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw OperatorError.failed("test services are not configured (\(missing.joined(separator: ", ")) unset)",
                                       remedy: "run `scripts/services start DIR` and source DIR/env, or use scripts/test")
        }
    }

    init(profile: String = "tiny", seed: Int = 7, pg: String? = nil) throws {
        try Self.requireServices()
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        folder = "/tmp/vkcap-\(tag)"
        root = "\(folder)/host"
        database = "vkcap_\(tag)"
        host = "lab-\(tag)"
        repositoryPath = "\(folder)/repo"
        catalogPath = "\(folder)/catalog.db"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let made = try Subprocess.run(Self.labBinary, ["create", "--root", root, "--profile", profile, "--seed", String(seed),
                                                       "--database", database] + (pg.map { ["--pg", $0] } ?? []))
        guard made.status == 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            throw OperatorError.failed("vaulthalla-lab create failed: \(made.stderrSummary)")
        }
    }

    var state: LabState { get throws { try LabState.load(LabPaths(root: root)) } }

    func settings(vh: String? = nil, mode: CaptureSettings.ExportMode = .stdout, recipient: String? = nil) throws -> CaptureSettings {
        let env = Self.environment
        let s3 = CaptureSettings.S3Access(endpoint: URL(string: env["VALKYRIE_TEST_S3_ENDPOINT"]!)!,
                                          region: env["AWS_DEFAULT_REGION"] ?? "us-east-1",
                                          credentials: S3Credentials(accessKeyID: env["AWS_ACCESS_KEY_ID"]!,
                                                                     secretAccessKey: env["AWS_SECRET_ACCESS_KEY"]!))
        return CaptureSettings(
            host: HostPaths(root: root),
            database: .init(conninfo: try state.database.conninfo, binDirectory: env["VALKYRIE_TEST_PGBIN"]),
            vh: vh ?? "\(root)/bin/vh",
            exports: .init(recipient: recipient ?? env["VALKYRIE_TEST_GPG_FPR"]!, gnupgHome: env["VALKYRIE_TEST_GNUPGHOME"],
                           mode: mode, temporaryDirectory: folder),
            s3: s3, maintenance: .init(stop: [], start: []), hostName: host, valkyrieVersion: "test")
    }

    func openRepository() async throws -> Repository {
        let backend = LocalBackend(path: repositoryPath)
        let gpg = CaptureHarness.environment["VALKYRIE_TEST_GNUPGHOME"]
        if FileManager.default.fileExists(atPath: "\(repositoryPath)/config") {
            return try await Repository.open(backend: backend, unlock: [.gpg(homeDirectory: gpg)])
        }
        return try await Repository.initialize(backend: backend, slot: .gpg(fingerprint: Self.environment["VALKYRIE_TEST_GPG_FPR"]!,
                                                                            homeDirectory: gpg), label: "test")
    }

    /// One backup with a freshly opened repository and catalog, as a new `valkyrie backup` process would.
    func backup(_ settings: CaptureSettings? = nil, maintenance: Bool = false) async throws -> (BackupSummary, Catalog, Repository) {
        let repository = try await openRepository()
        let catalog = try Catalog.open(at: catalogPath, mode: .create)
        let backup = Backup(settings: try settings ?? self.settings(), repository: repository, catalog: catalog, maintenance: maintenance)
        return (try await backup.run(), catalog, repository)
    }

    func lab(_ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run(Self.labBinary, arguments + ["--root", root])
    }

    func close() {
        _ = try? lab(["destroy"])
        try? FileManager.default.removeItem(atPath: folder)
    }
}
