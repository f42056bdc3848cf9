import Capture
import Foundation
import S3
import Support
import Vaulthalla

/// The backup's sections of valkyrie.yaml, and how they become `CaptureSettings`.
extension Configuration {
    struct HostSettings: Decodable, Sendable {
        /// Prefix of every host path (`/`; a lab host's folder in tests and the demo).
        var root: String?
        var configDir: String?
        var dataDir: String?
        var swtpmDir: String?
        /// The name sets are named after (default: this machine's host name).
        var name: String?

        enum CodingKeys: String, CodingKey {
            case root, name
            case configDir = "config_dir"
            case dataDir = "data_dir"
            case swtpmDir = "swtpm_dir"
        }
    }

    struct PostgresSettings: Decodable, Sendable {
        /// libpq key=value conninfo; absent: built from `database:` of Vaulthalla's config.yaml.
        var conninfo: String?
        /// A file holding the password (never in the config itself).
        var passwordFile: String?
        /// Folder of pg_dump and pg_restore matching the server's major version.
        var binDir: String?

        enum CodingKeys: String, CodingKey {
            case conninfo
            case passwordFile = "password_file"
            case binDir = "bin_dir"
        }
    }

    struct ExportSettings: Decodable, Sendable {
        var recipient: String?
        var gnupghome: String?
        /// `stdout` (default) or `vh-encrypts`.
        var mode: String?
        var tempDir: String?

        enum CodingKeys: String, CodingKey {
            case recipient, gnupghome, mode
            case tempDir = "temp_dir"
        }
    }

    struct MaintenanceSettings: Decodable, Sendable {
        var stop: [String]?
        var start: [String]?
    }

    /// Everything a backup needs, with Vaulthalla's defaults for what the file leaves out.
    func captureSettings(valkyrieVersion: String) throws -> CaptureSettings {
        let paths = HostPaths(root: host?.root ?? "/")
        let hostName = host?.name ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        guard let recipient = exports?.recipient, !recipient.isEmpty else {
            throw OperatorError.badInput("the config has no exports.recipient",
                                         remedy: "set exports.recipient to the fingerprint of the operator's GPG key")
        }
        let mode: CaptureSettings.ExportMode
        switch exports?.mode ?? "stdout" {
        case "stdout": mode = .stdout
        case "vh-encrypts": mode = .vhEncrypts
        case let other:
            throw OperatorError.badInput("exports.mode \(other) is not stdout or vh-encrypts", remedy: "fix exports.mode in the config")
        }
        var settings = CaptureSettings(
            host: paths, database: try databaseSettings(paths), vh: vh ?? (paths.root == "/" ? "vh" : "\(paths.root)/bin/vh"),
            exports: .init(recipient: recipient, gnupgHome: exports?.gnupghome, mode: mode,
                           temporaryDirectory: exports?.tempDir ?? NSTemporaryDirectory()),
            s3: try s3Access(), dataExcludes: excludes ?? HostPaths.defaultDataExclusions,
            verifyContentHashes: verifyContentHashes ?? true,
            maintenance: .init(stop: maintenance?.stop ?? CaptureSettings.MaintenanceCommands.systemdStop,
                               start: maintenance?.start ?? CaptureSettings.MaintenanceCommands.systemdStart),
            hostName: hostName, valkyrieVersion: valkyrieVersion)
        if let dir = host?.configDir { settings.configDirectory = dir }
        if let dir = host?.dataDir { settings.dataDirectory = dir }
        if let dir = host?.swtpmDir { settings.swtpmDirectory = dir }
        return settings
    }

    /// `postgres.conninfo`, else `database:` of Vaulthalla's config.yaml; a password only from `password_file`.
    private func databaseSettings(_ paths: HostPaths) throws -> CaptureSettings.DatabaseSettings {
        var fields: [String: String]
        if let conninfo = postgres?.conninfo {
            fields = Conninfo.parse(conninfo)
        } else {
            let configFile = host?.configDir.map { "\($0)/config.yaml" } ?? paths.configFile
            let database = try VaulthallaConfig.load(path: configFile).database
            fields = ["host": database.host, "port": String(database.port), "dbname": database.name, "user": database.user]
        }
        if let file = postgres?.passwordFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw OperatorError.badInput("postgres.password_file \(file) cannot be read", remedy: "check the path and its permissions")
            }
            fields["password"] = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
        return .init(conninfo: Conninfo.render(fields), binDirectory: postgres?.binDir)
    }

    private func s3Access() throws -> CaptureSettings.S3Access? {
        guard let settings = s3Capture else { return nil }
        let environment = ProcessInfo.processInfo.environment
        let (endpoint, region) = try settings.endpointAndRegion(section: "s3_capture")
        let credentials: S3Credentials
        if let id = settings.accessKeyID, let secret = settings.secretAccessKey {
            credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret)
        } else if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] {
            credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret)
        } else {
            throw OperatorError.badInput("s3_capture has no credentials",
                                         remedy: "set s3_capture.access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
        }
        return .init(endpoint: endpoint, region: region, credentials: credentials, pathStyle: settings.pathStyle ?? true,
                     caFile: settings.caFile)
    }
}
