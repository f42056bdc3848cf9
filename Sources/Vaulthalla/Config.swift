import Foundation
import Support
import Yams

/// `/etc/vaulthalla/config.yaml`: the sections a recovery tool reads or a lab host writes. Unknown keys are
/// ignored and only `database` is required, so older and newer releases' files both read. The DB password is
/// never in it.
public struct VaulthallaConfig: Codable, Sendable, Equatable {
    public var websocketServer: Server?
    public var httpPreviewServer: Server?
    public var database: Database
    public var auth: Auth?
    public var sync: Sync?
    public var sharing: Sharing?
    public var caching: Caching?
    public var auditing: Auditing?
    public var dev: Dev?

    enum CodingKeys: String, CodingKey {
        case websocketServer = "websocket_server"
        case httpPreviewServer = "http_preview_server"
        case database, auth, sync, sharing, caching, auditing, dev
    }

    public struct Server: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var host: String
        public var port: Int
        public var maxConnections: Int
        enum CodingKeys: String, CodingKey {
            case enabled, host, port
            case maxConnections = "max_connections"
        }
    }

    public struct Database: Codable, Sendable, Equatable {
        public var host: String
        public var port: Int
        public var name: String
        public var user: String
        public var poolSize: Int
        enum CodingKeys: String, CodingKey {
            case host, port, name, user
            case poolSize = "pool_size"
        }
    }

    public struct Auth: Codable, Sendable, Equatable {
        public var accessTokenExpiryMinutes: Int
        public var refreshTokenExpiryDays: Int
        enum CodingKeys: String, CodingKey {
            case accessTokenExpiryMinutes = "access_token_expiry_minutes"
            case refreshTokenExpiryDays = "refresh_token_expiry_days"
        }
    }

    public struct Sync: Codable, Sendable, Equatable {
        public var eventAuditRetentionDays: Int
        public var eventAuditMaxEntries: Int
        enum CodingKeys: String, CodingKey {
            case eventAuditRetentionDays = "event_audit_retention_days"
            case eventAuditMaxEntries = "event_audit_max_entries"
        }
    }

    public struct Sharing: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var enablePublicLinks: Bool
        enum CodingKeys: String, CodingKey {
            case enabled
            case enablePublicLinks = "enable_public_links"
        }
    }

    public struct Caching: Codable, Sendable, Equatable {
        public var maxSizeMB: Int
        enum CodingKeys: String, CodingKey { case maxSizeMB = "max_size_mb" }
    }

    public struct Auditing: Codable, Sendable, Equatable {
        public var filesTrashed: Retention
        public var encryptionWaivers: Retention
        enum CodingKeys: String, CodingKey {
            case filesTrashed = "files_trashed"
            case encryptionWaivers = "encryption_waivers"
        }
    }

    public struct Retention: Codable, Sendable, Equatable {
        public var retentionDays: Int
        enum CodingKeys: String, CodingKey { case retentionDays = "retention_days" }
    }

    public struct Dev: Codable, Sendable, Equatable {
        public var enabled: Bool
    }

    /// The shipped defaults, pointing at a database on `host:port`.
    public static func defaults(databaseHost: String = "localhost", databasePort: Int = 5432) -> VaulthallaConfig {
        VaulthallaConfig(
            websocketServer: Server(enabled: true, host: "0.0.0.0", port: 36969, maxConnections: 1024),
            httpPreviewServer: Server(enabled: true, host: "0.0.0.0", port: 36970, maxConnections: 512),
            database: Database(host: databaseHost, port: databasePort, name: Defaults.databaseName,
                               user: Defaults.databaseRole, poolSize: 10),
            auth: Auth(accessTokenExpiryMinutes: 60, refreshTokenExpiryDays: 7),
            sync: Sync(eventAuditRetentionDays: 30, eventAuditMaxEntries: 5000),
            sharing: Sharing(enabled: true, enablePublicLinks: true),
            caching: Caching(maxSizeMB: 10240),
            auditing: Auditing(filesTrashed: Retention(retentionDays: 60), encryptionWaivers: Retention(retentionDays: 180)),
            dev: Dev(enabled: false))
    }

    public static func load(path: String) throws -> VaulthallaConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OperatorError.badInput("cannot read Vaulthalla config \(path)", remedy: "check the path and its permissions")
        }
        do {
            return try YAMLDecoder().decode(VaulthallaConfig.self, from: data)
        } catch {
            throw OperatorError.failed("\(path) is not a Vaulthalla config.yaml (\(error))",
                                       remedy: "compare it with the config.yaml the vaulthalla package ships")
        }
    }

    public func yaml() throws -> String {
        "# Vaulthalla configuration. The database password is TPM-sealed, never written here.\n"
            + (try YAMLEncoder().encode(self))
    }
}
