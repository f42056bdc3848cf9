import Foundation
import Support
import Yams

/// `/etc/valkyrie/valkyrie.yaml`: every setting has a default, every path can be overridden.
/// A missing file means all defaults; a file that cannot be read or parsed is bad input (exit 2).
struct Configuration: Decodable, Sendable {
    /// Repository location: a folder, or `s3://bucket/prefix`.
    var repository: String?
    /// Catalog file.
    var catalog: String?
    /// S3-compatible object storage settings for an `s3://` repository.
    var s3: S3Settings?
    /// The TPM for TPM key slots, as a TCTI string (`device:/dev/tpmrm0`).
    var tpmTCTI: String?
    /// The key slot a backup opens the repository with: a file holding the passphrase (else `$VALKYRIE_PASSWORD`,
    /// the TPM of `tpm_tcti`, or the GPG keyring).
    var passwordFile: String?
    /// A key file opening a key-file slot, tried before any other credential (README, Configuration).
    var keyFile: String?
    /// What `valkyrie backup` captures (BackupConfiguration.swift).
    var host: HostSettings?
    var postgres: PostgresSettings?
    var vh: String?
    var exports: ExportSettings?
    /// Names under the data directory the walk leaves out (default: `.fuse-plaintext`, `.cache`).
    var excludes: [String]?
    /// Compare every body's BLAKE2b with `files.content_hash` (default true).
    var verifyContentHashes: Bool?
    /// Endpoint and credentials for reading the S3 vaults' buckets.
    var s3Capture: S3Settings?
    var maintenance: MaintenanceSettings?
    /// What `valkyrie forget` keeps and how `prune` works when no flags say (RetentionConfiguration.swift).
    var retention: RetentionSettings?
    /// Metrics file and status thresholds (MonitoringSettings.swift).
    var monitoring: MonitoringSettings?

    enum CodingKeys: String, CodingKey {
        case repository, catalog, s3, host, postgres, vh, exports, excludes, maintenance, retention, monitoring
        case tpmTCTI = "tpm_tcti"
        case passwordFile = "password_file"
        case keyFile = "key_file"
        case verifyContentHashes = "verify_content_hashes"
        case s3Capture = "s3_capture"
    }

    struct S3Settings: Decodable, Sendable {
        var endpoint: String?
        var region: String?
        var pathStyle: Bool?
        /// PEM CA certificates to trust for an https endpoint instead of the system's (a private CA).
        var caFile: String?
        /// Credentials; when absent, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` from the environment.
        var accessKeyID: String?
        var secretAccessKey: String?

        enum CodingKeys: String, CodingKey {
            case endpoint, region
            case pathStyle = "path_style"
            case caFile = "ca_file"
            case accessKeyID = "access_key_id"
            case secretAccessKey = "secret_access_key"
        }

        /// The region (setting, then `AWS_DEFAULT_REGION` / `AWS_REGION`, then us-east-1) and the endpoint
        /// (setting, else AWS's for that region); `section` names the setting in messages.
        func endpointAndRegion(section: String) throws -> (endpoint: URL, region: String) {
            let environment = ProcessInfo.processInfo.environment
            let region = region ?? environment["AWS_DEFAULT_REGION"] ?? environment["AWS_REGION"] ?? "us-east-1"
            let text = endpoint ?? "https://s3.\(region).amazonaws.com"
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                throw OperatorError.badInput("S3 endpoint \(text) is not an http(s) URL", remedy: "fix \(section).endpoint in the config")
            }
            return (url, region)
        }
    }

    static let empty = Configuration()

    /// Loads `path`; a missing file is the defaults unless `required` (the operator named it explicitly).
    static func load(path: String, required: Bool) throws -> Configuration {
        guard FileManager.default.fileExists(atPath: path) else {
            if required {
                throw OperatorError.badInput("configuration file \(path) does not exist",
                                             remedy: "create it (see README, Configuration) or drop --config")
            }
            return .empty
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OperatorError.badInput("configuration file \(path) cannot be read", remedy: "check its permissions")
        }
        do {
            return try YAMLDecoder().decode(Configuration.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            throw OperatorError.badInput("configuration file \(path) is not valid: \(Self.describe(error))",
                                         remedy: "fix that setting (see README, Configuration)")
        } catch {
            throw OperatorError.badInput("configuration file \(path) is not valid YAML: \(error)",
                                         remedy: "fix the syntax")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(path(context)): \(context.debugDescription)"
        case let .keyNotFound(key, context):
            return "\(path(context)): missing \(key.stringValue)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension GlobalOptions {
    /// The configuration: `--config` or `$VALKYRIE_CONFIG` must exist; the system default may be absent.
    func loadConfiguration() throws -> Configuration {
        try ConfigurationCache.load(path: configPath, required: Self.configIsExplicit(flag: config))
    }
}
