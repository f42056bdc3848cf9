import Foundation
import Support
import Vaulthalla

/// `vaulthalla-lab check`: decrypts every body through the database and the keys, and compares everything with
/// the lab's ground truth.
public enum Checker {
    public struct Report: Codable, Sendable {
        public var vaults = 0
        public var files = 0
        public var encrypted = 0
        /// Bodies with an empty IV and content (1.1.0 plaintext).
        public var plaintext = 0
        public var empty = 0
        /// Bodies the recorded `encrypted_with_key_version` did not open.
        public var staleKeyVersion = 0
        /// Bodies on a key version older than the vault's current one.
        public var oldKeyVersion = 0
        public var bytes: Int64 = 0
        public var s3Objects = 0
        public var sealedSecrets = 0
        public var mismatches: [String] = []

        public var ok: Bool { mismatches.isEmpty }
    }

    public static func check(root: String, unseal: Bool = true) async throws -> Report {
        let paths = LabPaths(root: root)
        let state = try LabState.load(paths)
        var truth = try Manifest.load(paths.manifestFile)
        let db = try VaulthallaDatabase(conninfo: state.database.conninfo)
        var report = Report()

        let rings = try db.keyrings(vaultMaster: state.vaultMasterKey)
        for known in state.vaultKeys where rings[known.vaultID]?.keys[known.version]?.base64EncodedString() != known.key {
            report.mismatches.append("vault \(known.vaultID) key version \(known.version) in the database differs from the lab's")
        }
        let s3 = try S3Publisher(state.s3)
        for vault in try db.vaults() {
            report.vaults += 1
            guard let ring = rings[vault.id] else {
                report.mismatches.append("vault \(vault.name) has no keys")
                continue
            }
            for file in try db.files(vaultID: vault.id) {
                let where_ = "vault \(vault.name) \(file.logicalPath)"
                report.files += 1
                guard let body = FileManager.default.contents(atPath: paths.host.bodyPath(file.backingPath)) else {
                    report.mismatches.append("\(where_): body \(file.backingPath) is missing")
                    continue
                }
                report.bytes += Int64(body.count)
                let opened: VaultKeyring.Opened
                do {
                    opened = try ring.open(file, body: body)
                } catch {
                    report.mismatches.append("\(error)")
                    truth.entries.removeValue(forKey: file.fsEntryID)
                    continue
                }
                if let version = opened.keyVersion {
                    report.encrypted += 1
                    if opened.staleRecordedVersion { report.staleKeyVersion += 1 }
                    if version < ring.currentVersion { report.oldKeyVersion += 1 }
                } else if body.isEmpty {
                    report.empty += 1
                } else {
                    report.plaintext += 1
                }
                guard let expected = truth.entries.removeValue(forKey: file.fsEntryID) else {
                    report.mismatches.append("\(where_): not in the lab manifest")
                    continue
                }
                if expected.sha256 != Manifest.digest(opened.plaintext) {
                    report.mismatches.append("\(where_): plaintext differs from what the lab wrote")
                }
                if let bucket = vault.bucket {
                    report.s3Objects += 1
                    if let problem = try await s3.verify(bucket: bucket, key: String(file.logicalPath.dropFirst()), body: body, file: file) {
                        report.mismatches.append("\(where_): S3 object \(problem)")
                    }
                }
            }
        }
        for vault in try db.vaults() where vault.bucket != nil {
            if let problem = try await s3.verifyManifest(bucket: vault.bucket!, vaultID: vault.id, files: try db.files(vaultID: vault.id).count) {
                report.mismatches.append("vault \(vault.name): \(Defaults.bucketManifestKey) \(problem)")
            }
        }
        for id in truth.entries.keys.sorted() {
            report.mismatches.append("fs_entry \(id) is in the lab manifest but not reachable through the database")
        }
        if unseal {
            let unsealed = try Sealing.unsealAll(paths: paths)
            for secret in SealedSecret.allCases {
                if unsealed[secret] == Sealing.secretValue(secret, state) {
                    report.sealedSecrets += 1
                } else {
                    report.mismatches.append("sealed \(secret.rawValue) does not unseal to the lab's secret")
                }
            }
        }
        return report
    }
}
