import Foundation
import Support
import Vaulthalla

/// Where a lab host keeps its own ground truth: `ROOT/lab/`, outside every path a Vaulthalla backup captures.
public struct LabPaths: Sendable {
    public let root: String
    public let host: HostPaths

    public init(root: String) {
        let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = absolute
        host = HostPaths(root: absolute)
    }

    public var labDirectory: String { "\(root)/lab" }
    /// Seed, profile, day, service settings and every plaintext secret and key (0600).
    public var stateFile: String { "\(labDirectory)/state.json" }
    /// `fs_entry id <TAB> sha256 of plaintext <TAB> size`, one line per live file.
    public var manifestFile: String { "\(labDirectory)/manifest.tsv" }
    /// An exit code (and optional message) that makes the vh stand-in fail, e.g. `69 daemon down`.
    public var vhFailFile: String { "\(labDirectory)/vh-fail" }
    /// `healthy`, `degraded` or `critical` for `vh status` (healthy when absent).
    public var vhStatusFile: String { "\(labDirectory)/vh-status" }
    public var swtpmPIDFile: String { "\(labDirectory)/swtpm.pid" }
    /// The TCTI of the lab's running swtpm (while `vaulthalla-lab swtpm start` has it up).
    public var tctiFile: String { "\(labDirectory)/tcti" }
    public var vhScript: String { "\(root)/bin/vh" }
}

/// The lab's record of a host: how it was made and every secret in plaintext, so `check` and the tests can
/// compare what a backup or restore produced with the truth.
public struct LabState: Codable, Sendable {
    public var seed: UInt64
    public var profile: Profile
    public var day: Int
    public var vaulthallaVersion: String
    public var database: DatabaseSettings
    public var s3: S3Settings
    public var secrets: Secrets
    /// Every key version of every vault, base64.
    public var vaultKeys: [VaultKey]

    public struct DatabaseSettings: Codable, Sendable {
        /// Unix socket folder or host name.
        public var host: String
        public var port: Int
        public var name: String
        /// Vaulthalla's own role (owns the database).
        public var role: String
        /// The cluster's superuser, used to create and drop the database.
        public var superuser: String

        /// libpq conninfo for Vaulthalla's role.
        public var conninfo: String { Self.conninfo(host: host, port: port, database: name, user: role) }
        public var adminConninfo: String { Self.conninfo(host: host, port: port, database: "postgres", user: superuser) }

        static func conninfo(host: String, port: Int, database: String, user: String) -> String {
            func quote(_ value: String) -> String {
                "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            }
            return "host=\(quote(host)) port=\(port) dbname=\(quote(database)) user=\(quote(user))"
        }
    }

    public struct S3Settings: Codable, Sendable {
        public var endpoint: String
        public var region: String
        public var accessKeyID: String
        public var secretAccessKey: String
    }

    public struct Secrets: Codable, Sendable {
        public var dbPassword: String
        public var jwtSecret: String
        public var master: String
        public var vaultMaster: String
        public var akMaster: String
    }

    public struct VaultKey: Codable, Sendable, Equatable {
        public var vaultID: Int
        public var version: Int
        public var key: String
    }

    public static func load(_ paths: LabPaths) throws -> LabState {
        guard let data = FileManager.default.contents(atPath: paths.stateFile) else {
            throw OperatorError.badInput("\(paths.root) is not a lab host (no \(paths.stateFile))",
                                         remedy: "create one with `vaulthalla-lab create --root \(paths.root)`")
        }
        return try JSONFormat.decoder().decode(LabState.self, from: data)
    }

    public func save(_ paths: LabPaths) throws {
        try writeFile(paths.stateFile, try JSONFormat.encoder(pretty: true).encode(self), mode: 0o600)
    }

    public func key(vault: Int, version: Int) -> Data? {
        vaultKeys.first { $0.vaultID == vault && $0.version == version }.flatMap { Data(base64Encoded: $0.key) }
    }

    public var vaultMasterKey: Data { Data(base64Encoded: secrets.vaultMaster)! }
    public var masterKey: Data { Data(base64Encoded: secrets.master)! }
    public var akMasterKey: Data { Data(base64Encoded: secrets.akMaster)! }
}

/// Writes a file whole with `mode`, creating its folder.
func writeFile(_ path: String, _ data: Data, mode: Int = 0o644) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: mode]) else {
        throw OperatorError.failed("cannot write \(path)", remedy: "check the folder's permissions and free space")
    }
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

func makeDirectory(_ path: String, mode: Int = 0o755) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: mode])
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}
