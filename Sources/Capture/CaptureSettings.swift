import Foundation
import S3
import Vaulthalla

/// Everything a backup needs to know about the host it captures. The CLI fills it from valkyrie.yaml; the
/// tests point it at a lab host.
public struct CaptureSettings: Sendable {
    /// The host's paths (`/` on a real host, the lab host's folder in tests).
    public var host: HostPaths
    /// `/etc/vaulthalla`, `/var/lib/vaulthalla`, `/var/lib/swtpm/vaulthalla`, each overridable.
    public var configDirectory: String
    public var dataDirectory: String
    public var swtpmDirectory: String
    /// Names under the data directory left out of the walk (`.fuse-plaintext`, `.cache`).
    public var dataExcludes: [String]
    public var database: DatabaseSettings
    /// The `vh` client.
    public var vh: String
    public var exports: ExportSettings
    /// Credentials and endpoint for reading the S3 vaults' buckets; nil: S3 vaults are not captured (an error
    /// when the host has any).
    public var s3: S3Access?
    /// Compare every body's BLAKE2b with `files.content_hash` (sizes are always compared).
    public var verifyContentHashes: Bool
    /// Commands that stop and start Vaulthalla's services for `--maintenance`.
    public var maintenance: MaintenanceCommands
    /// The host name sets are named after.
    public var hostName: String
    public var valkyrieVersion: String

    public init(host: HostPaths, database: DatabaseSettings, vh: String, exports: ExportSettings, s3: S3Access?,
                dataExcludes: [String] = HostPaths.defaultDataExclusions, verifyContentHashes: Bool = true,
                maintenance: MaintenanceCommands = MaintenanceCommands(), hostName: String, valkyrieVersion: String) {
        self.host = host
        configDirectory = host.configDirectory
        dataDirectory = host.dataDirectory
        swtpmDirectory = host.swtpmState
        self.dataExcludes = dataExcludes
        self.database = database
        self.vh = vh
        self.exports = exports
        self.s3 = s3
        self.verifyContentHashes = verifyContentHashes
        self.maintenance = maintenance
        self.hostName = hostName
        self.valkyrieVersion = valkyrieVersion
    }

    public struct DatabaseSettings: Sendable {
        /// libpq conninfo; a password in it reaches pg_dump through PGPASSWORD, never its arguments.
        public var conninfo: String
        /// Folder of `pg_dump` and `pg_restore` (nil: PATH).
        public var binDirectory: String?

        public init(conninfo: String, binDirectory: String? = nil) {
            self.conninfo = conninfo
            self.binDirectory = binDirectory
        }
    }

    public enum ExportMode: String, Sendable, Codable {
        /// Read `vh`'s standard output and encrypt in-process: plaintext never touches disk.
        case stdout
        /// `vh ... --output FILE --recipient FPR` into a private temp folder, then check the file.
        case vhEncrypts = "vh-encrypts"
    }

    public struct ExportSettings: Sendable {
        public var recipient: String
        /// GnuPG home holding the recipient's public key (nil: `$GNUPGHOME` or `~/.gnupg`).
        public var gnupgHome: String?
        public var mode: ExportMode
        /// Where `vh-encrypts` makes its private temp folder (must be writable by Vaulthalla's daemon user).
        public var temporaryDirectory: String

        public init(recipient: String, gnupgHome: String? = nil, mode: ExportMode = .stdout,
                    temporaryDirectory: String = NSTemporaryDirectory()) {
            self.recipient = recipient
            self.gnupgHome = gnupgHome
            self.mode = mode
            self.temporaryDirectory = temporaryDirectory
        }
    }

    public struct S3Access: Sendable {
        public var endpoint: URL
        public var region: String
        public var credentials: S3Credentials
        public var pathStyle: Bool
        /// PEM CA certificates trusted instead of the system's.
        public var caFile: String?

        public init(endpoint: URL, region: String, credentials: S3Credentials, pathStyle: Bool = true, caFile: String? = nil) {
            self.endpoint = endpoint
            self.region = region
            self.credentials = credentials
            self.pathStyle = pathStyle
            self.caFile = caFile
        }
    }

    /// Shell commands (run with `/bin/sh -c`); the defaults use systemd.
    public struct MaintenanceCommands: Sendable {
        public var stop: [String]
        public var start: [String]

        public init(stop: [String] = MaintenanceCommands.systemdStop, start: [String] = MaintenanceCommands.systemdStart) {
            self.stop = stop
            self.start = start
        }

        public static let units = ["vaulthalla.service", "vaulthalla-web.service", "vaulthalla-cli.socket"]
        public static let systemdStop = ["systemctl stop \(units.joined(separator: " "))"]
        public static let systemdStart = ["systemctl start \(units.reversed().joined(separator: " "))"]
    }
}
