import Foundation

/// Where a Vaulthalla host keeps things, under `root` ("/" on a real host, a folder for a lab host or a restore).
public struct HostPaths: Sendable, Equatable, Codable {
    public var root: String

    public init(root: String = "/") {
        self.root = root
    }

    private func under(_ path: String) -> String {
        root == "/" ? path : (root.hasSuffix("/") ? String(root.dropLast()) : root) + path
    }

    public var configDirectory: String { under("/etc/vaulthalla") }
    public var configFile: String { under("/etc/vaulthalla/config.yaml") }
    /// Vault bodies, sealed blobs and caches (0700 vaulthalla).
    public var dataDirectory: String { under("/var/lib/vaulthalla") }
    /// swtpm's state, when the host has no hardware TPM.
    public var swtpmState: String { under("/var/lib/swtpm/vaulthalla") }
    public var runDirectory: String { under("/run/vaulthalla") }
    public var cliSocket: String { under("/run/vaulthalla/cli.sock") }
    /// The one-shot DB password hand-off the daemon reads at start-up and deletes.
    public var dbPasswordFile: String { under("/run/vaulthalla/db_password") }
    /// Vaulthalla's own decrypting FUSE view: never back it up.
    public var fuseMount: String { under("/mnt/vaulthalla") }
    public var logDirectory: String { under("/var/log/vaulthalla") }

    /// `.sealed_<name>.blob/` in the data directory.
    public func sealedBlobDirectory(_ secret: SealedSecret) -> String {
        "\(dataDirectory)/.sealed_\(secret.rawValue).blob"
    }

    /// The `.priv` (TPM2B_PRIVATE buffer) and `.pub` (raw TPMT_PUBLIC) files of a sealed secret.
    public func sealedBlobFiles(_ secret: SealedSecret) -> (privateArea: String, publicArea: String) {
        let dir = sealedBlobDirectory(secret)
        return ("\(dir)/\(secret.rawValue).priv", "\(dir)/\(secret.rawValue).pub")
    }

    /// The folder of a vault's bodies, named by its mount point alias.
    public func vaultDirectory(mountPoint: String) -> String {
        "\(dataDirectory)/\(mountPoint)"
    }

    /// A body's absolute path from its backing path relative to the data directory.
    public func bodyPath(_ backingPath: String) -> String {
        "\(dataDirectory)/\(backingPath)"
    }

    /// Folders of the data directory a backup leaves out by default: regenerable caches, and
    /// `.fuse-plaintext/`, which holds decrypted working copies of user files.
    public static let defaultDataExclusions = [".fuse-plaintext", ".cache"]
}

/// The secrets Vaulthalla seals into the TPM, by their blob names.
public enum SealedSecret: String, CaseIterable, Sendable, Codable {
    /// The DB password.
    case psql
    /// 32 bytes protecting `internal_secrets`.
    case master
    /// 32 bytes wrapping every vault key.
    case vaultMaster = "vault_master"
    /// 32 bytes protecting S3 API secrets in `api_keys`.
    case akMaster = "ak_master"
}

/// Vaulthalla's fixed names and ports.
public enum Defaults {
    public static let databaseName = "vaulthalla"
    public static let databaseRole = "vaulthalla"
    public static let serviceUser = "vaulthalla"
    public static let swtpmPort = 2321
    public static let swtpmControlPort = 2322
    public static let services = ["vaulthalla.service", "vaulthalla-web.service", "vaulthalla-swtpm.service"]
    /// The bucket manifest newer versions keep in every S3 vault.
    public static let bucketManifestKey = ".vaulthalla/index-v1.json"
}
