import Foundation
import Support
import Vaulthalla

/// `valkyrie/version.json`: what a restore must match (Vaulthalla and PostgreSQL versions, TPM mode) and how
/// the set was taken.
public struct VersionRecord: Codable, Sendable, Equatable {
    /// `vh version`, e.g. `Vaulthalla v1.6.6`.
    public var vhVersion: String
    /// dpkg's version and origin of the `vaulthalla` package; nil where it is not installed from a package.
    public var package: PackageVersion?
    public var postgresServerVersion: Int
    /// hardware, swtpm or environment (Vaulthalla's own choice), with the TCTI.
    public var tpmMode: String
    public var tpmTCTI: String
    public var swtpmStatePresent: Bool
    public var gpgRecipient: String
    public var exportMode: String
    public var host: String
    public var valkyrieVersion: String
    /// Record counts in the database snapshot.
    public var counts: [String: Int]
    /// `schema_migrations` in the database snapshot: the migrations the running Vaulthalla applied and accepted,
    /// each pinned by sha256 (nil in sets made before Valkyrie recorded them).
    public var schemaMigrations: [Migration]?
    public var vaults: [VaultSummary]
    /// Paths the walk left out by configuration.
    public var excluded: [String]
    public var maintenance: Bool

    public struct Migration: Codable, Sendable, Equatable {
        public var filename: String
        public var sha256: String
    }

    public struct PackageVersion: Codable, Sendable, Equatable {
        public var version: String
        public var origin: String?
    }

    public struct VaultSummary: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var type: String
        public var mountPoint: String
        public var bucket: String?
        public var currentKeyVersion: Int?
        public var deleted: Bool
    }

    /// `vh version`'s first line; a failing or missing vh is an error (a set must say what made it).
    static func vhVersion(_ vh: String) throws -> String {
        if vh.contains("/"), !FileManager.default.isExecutableFile(atPath: vh) {
            throw OperatorError.badInput("vh is not at \(vh)", remedy: "install Vaulthalla's client or fix vh in the config")
        }
        let result = try Subprocess.run(vh, ["version"])
        guard result.status == 0, let line = result.stdoutText.split(whereSeparator: \.isNewline).first else {
            throw OperatorError.failed("`vh version` failed (exit \(result.status)): \(result.stderrSummary)",
                                       remedy: "check that the Vaulthalla daemon runs (`vh status`)")
        }
        return String(line)
    }

    /// The `vaulthalla` package's version and origin, or nil where dpkg does not know it.
    static func package() -> PackageVersion? {
        guard let dpkg = try? Subprocess.run("dpkg-query", ["-W", "-f", "${Version}", "vaulthalla"]), dpkg.status == 0,
              !dpkg.stdoutText.isEmpty else { return nil }
        let policy = try? Subprocess.run("apt-cache", ["policy", "vaulthalla"])
        // The line after `*** <installed version>` names the archive it came from.
        let lines = policy?.stdoutText.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        let origin = lines.firstIndex { $0.hasPrefix("***") }.flatMap { $0 + 1 < lines.count ? lines[$0 + 1] : nil }
        return PackageVersion(version: dpkg.stdoutText, origin: origin)
    }

    static func tpm(_ mode: TPMMode) -> String {
        switch mode {
        case .device: "hardware"
        case .swtpm: "swtpm"
        case .environment: mode.isSoftware ? "swtpm" : "environment"
        }
    }
}
