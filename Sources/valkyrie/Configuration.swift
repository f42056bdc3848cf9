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

    enum CodingKeys: String, CodingKey {
        case repository, catalog, s3
        case tpmTCTI = "tpm_tcti"
    }

    struct S3Settings: Decodable, Sendable {
        var endpoint: String?
        var region: String?
        var pathStyle: Bool?
        /// Credentials; when absent, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` from the environment.
        var accessKeyID: String?
        var secretAccessKey: String?

        enum CodingKeys: String, CodingKey {
            case endpoint, region
            case pathStyle = "path_style"
            case accessKeyID = "access_key_id"
            case secretAccessKey = "secret_access_key"
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
        let explicit = config != nil || ProcessInfo.processInfo.environment["VALKYRIE_CONFIG"] != nil
        return try Configuration.load(path: configPath, required: explicit)
    }
}
