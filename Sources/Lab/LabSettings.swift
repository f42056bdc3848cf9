import Foundation
import Support

/// Where a lab host's services are: from options, else the `VALKYRIE_TEST_*` and `AWS_*` variables that
/// `scripts/services` writes.
public enum LabSettings {
    /// `--pg` conninfo (`host=... port=... user=...`), falling back to the environment for what it omits.
    public static func database(conninfo: String?, name: String,
                                environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LabState.DatabaseSettings {
        var fields: [String: String] = [:]
        for pair in (conninfo ?? "").split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        }
        guard let host = fields["host"] ?? environment["VALKYRIE_TEST_PGHOST"],
              let port = Int(fields["port"] ?? environment["VALKYRIE_TEST_PGPORT"] ?? "") else {
            throw OperatorError.badInput("no PostgreSQL cluster given",
                                         remedy: "pass --pg 'host=SOCKETDIR port=PORT user=postgres' or source the env of scripts/services")
        }
        let user = fields["user"] ?? environment["VALKYRIE_TEST_PGUSER"] ?? "postgres"
        return .init(host: host, port: port, name: name, role: "vaulthalla", superuser: user)
    }

    public static func s3(endpoint: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LabState.S3Settings {
        guard let endpoint = endpoint ?? environment["VALKYRIE_TEST_S3_ENDPOINT"],
              let access = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw OperatorError.badInput("no S3 endpoint or credentials given",
                                         remedy: "pass --s3-endpoint and set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or source the env of scripts/services")
        }
        return .init(endpoint: endpoint, region: environment["AWS_DEFAULT_REGION"] ?? "us-east-1",
                     accessKeyID: access, secretAccessKey: secret)
    }
}
