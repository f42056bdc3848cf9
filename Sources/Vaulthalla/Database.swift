import Foundation
import LibPQ
import Support

/// Reads a Vaulthalla database (`vaulthalla`, schema `public`): vaults, wrapped keys, and the file index that
/// maps a logical path to the body on disk through the `fs_entry` parent chain.
public final class VaulthallaDatabase {
    public let connection: PGConnection

    public init(connection: PGConnection) {
        self.connection = connection
    }

    public convenience init(conninfo: String) throws {
        self.init(connection: try PGConnection(conninfo: conninfo))
    }

    /// One row of `vault` (with its `s3` row for S3 vaults).
    public struct Vault: Sendable, Codable, Equatable {
        public var id: Int
        public var name: String
        /// `local` or `s3`.
        public var type: String
        public var description: String?
        public var quota: Int64?
        public var ownerID: Int
        /// The 33-char alias naming the vault's body folder.
        public var mountPoint: String
        public var isActive: Bool
        public var createdAt: String
        /// Deleted but not purged: `deleted_at` set (newer) or a root entry without a parent.
        public var deleted: Bool
        public var bucket: String?
        public var encryptUpstream: Bool?
    }

    public func vaults() throws -> [Vault] {
        let deletedAt = try hasColumn(table: "vault", column: "deleted_at") ? "v.deleted_at IS NOT NULL" : "false"
        let result = try connection.query("""
            SELECT v.id, v.name, v.type, v.description, v.quota, v.owner_id, v.mount_point, v.is_active,
                   to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
                   (\(deletedAt) OR EXISTS (SELECT 1 FROM fs_entry r WHERE r.vault_id = v.id AND r.path = '/'
                                              AND r.base32_alias = v.mount_point AND r.parent_id IS NULL)) AS deleted,
                   s.bucket, s.encrypt_upstream
            FROM vault v LEFT JOIN s3 s ON s.vault_id = v.id ORDER BY v.id
            """)
        return (0..<result.count).map { row in
            Vault(id: Int(result[row, "id"] ?? "") ?? 0, name: result[row, "name"] ?? "", type: result[row, "type"] ?? "",
                  description: result[row, "description"], quota: result[row, "quota"].flatMap { Int64($0) },
                  ownerID: Int(result[row, "owner_id"] ?? "") ?? 0, mountPoint: result[row, "mount_point"] ?? "",
                  isActive: result[row, "is_active"] == "t", createdAt: result[row, "created_at"] ?? "",
                  deleted: result[row, "deleted"] == "t", bucket: result[row, "bucket"],
                  encryptUpstream: result[row, "encrypt_upstream"].map { $0 == "t" })
        }
    }

    /// A vault key as stored: AES-256-GCM(vault_master, iv) of 32 bytes, 48 bytes with the tag.
    public struct WrappedKey: Sendable {
        public var vaultID: Int
        public var version: Int
        public var encryptedKey: Data
        public var iv: Data
        /// From `vault_keys` (the current version) rather than `vault_keys_trashed`.
        public var current: Bool
        public var createdAt: String?
    }

    public func wrappedKeys() throws -> [WrappedKey] {
        let result = try connection.query("""
            SELECT vault_id, version, encrypted_key, iv, true AS current,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at FROM vault_keys
            UNION ALL
            SELECT vault_id, version, encrypted_key, iv, false, NULL FROM vault_keys_trashed
            ORDER BY vault_id, version
            """)
        return try (0..<result.count).map { row in
            guard let key = result.bytea(row, "encrypted_key"), let iv = result.bytea(row, "iv") else {
                throw OperatorError.failed("vault_keys row of vault \(result[row, "vault_id"] ?? "?") has no key or IV",
                                           remedy: "the database is damaged; restore it from a recovery set")
            }
            return WrappedKey(vaultID: Int(result[row, "vault_id"] ?? "") ?? 0, version: Int(result[row, "version"] ?? "") ?? 0,
                              encryptedKey: key, iv: iv, current: result[row, "current"] == "t",
                              createdAt: result[row, "created_at"])
        }
    }

    /// Every vault's key versions, unwrapped with the 32-byte `vault_master` secret.
    public func keyrings(vaultMaster: Data) throws -> [Int: VaultKeyring] {
        var rings: [Int: VaultKeyring] = [:]
        for wrapped in try wrappedKeys() {
            let key: Data
            do {
                key = try BodyCipher.open(wrapped.encryptedKey, key: vaultMaster, nonce: wrapped.iv)
            } catch {
                throw OperatorError.failed("vault_master does not unwrap key version \(wrapped.version) of vault \(wrapped.vaultID)",
                                           remedy: "unseal vault_master from the same host state as this database")
            }
            var ring = rings[wrapped.vaultID] ?? VaultKeyring(vaultID: wrapped.vaultID, keys: [:], currentVersion: wrapped.version)
            ring.keys[wrapped.version] = key
            if wrapped.current { ring.currentVersion = wrapped.version }
            rings[wrapped.vaultID] = ring
        }
        return rings
    }

    /// One file of the index: its logical path, the body's path under the data directory, and how it is encrypted.
    public struct FileEntry: Sendable, Codable, Equatable {
        public var fsEntryID: Int64
        public var vaultID: Int
        /// Vault-relative, with a leading `/`.
        public var logicalPath: String
        /// `<vault mount point>/<dir alias>/.../<file alias>`, relative to `/var/lib/vaulthalla`.
        public var backingPath: String
        public var sizeBytes: Int64
        public var mimeType: String?
        public var contentHash: String?
        public var encryptionIV: String?
        public var keyVersion: Int?

        /// A file as a set's vault index recorded it (restore checks the captured body against it).
        public init(fsEntryID: Int64, vaultID: Int, logicalPath: String, backingPath: String, sizeBytes: Int64,
                    mimeType: String? = nil, contentHash: String?, encryptionIV: String?, keyVersion: Int?) {
            self.fsEntryID = fsEntryID; self.vaultID = vaultID; self.logicalPath = logicalPath; self.backingPath = backingPath
            self.sizeBytes = sizeBytes; self.mimeType = mimeType; self.contentHash = contentHash
            self.encryptionIV = encryptionIV; self.keyVersion = keyVersion
        }
    }

    /// Every file of a vault, found from the vault root down through `parent_id`.
    public func files(vaultID: Int) throws -> [FileEntry] {
        let result = try connection.query(Self.filesOfVault, [String(vaultID)])
        return (0..<result.count).map { fileEntry(result, $0) }
    }

    /// The same files in the same order, handed to `visit` at most `batch` at a time through a cursor, so a vault
    /// of a million files is never in memory whole. Inside a transaction (the caller's snapshot).
    public func files(vaultID: Int, batch: Int, _ visit: ([FileEntry]) throws -> Void) throws {
        try connection.forEachBatch(Self.filesOfVault, [String(vaultID)], batch: batch) { result in
            try visit((0..<result.count).map { fileEntry(result, $0) })
        }
    }

    private static let filesOfVault = """
        WITH RECURSIVE chain AS (
            SELECT e.id, e.base32_alias::text AS backing
            FROM fs_entry e JOIN vault v ON v.id = e.vault_id
            WHERE e.vault_id = $1 AND e.path = '/' AND e.base32_alias = v.mount_point
          UNION ALL
            SELECT c.id, chain.backing || '/' || c.base32_alias
            FROM fs_entry c JOIN chain ON c.parent_id = chain.id
        )
        SELECT e.id, e.vault_id, e.path, chain.backing, \(fileColumns)
        FROM chain JOIN fs_entry e ON e.id = chain.id JOIN files f ON f.fs_entry_id = e.id
        ORDER BY e.id
        """

    /// The file at `logicalPath` of a vault, its backing path built by walking `parent_id` up to the vault root.
    public func resolve(vaultID: Int, logicalPath: String) throws -> FileEntry? {
        let result = try connection.query("""
            WITH RECURSIVE up AS (
                SELECT id, parent_id, path, base32_alias::text AS alias, 0 AS depth
                FROM fs_entry WHERE vault_id = $1 AND path = $2
              UNION ALL
                SELECT p.id, p.parent_id, p.path, p.base32_alias::text, up.depth + 1
                FROM fs_entry p JOIN up ON p.id = up.parent_id WHERE up.path <> '/'
            )
            SELECT e.id, e.vault_id, e.path,
                   (SELECT string_agg(alias, '/' ORDER BY depth DESC) FROM up) AS backing,
                   (SELECT path FROM up ORDER BY depth DESC LIMIT 1) AS top, \(Self.fileColumns)
            FROM fs_entry e JOIN files f ON f.fs_entry_id = e.id WHERE e.vault_id = $1 AND e.path = $2
            """, [String(vaultID), logicalPath])
        guard result.count > 0 else { return nil }
        guard result[0, "top"] == "/" else {
            throw OperatorError.failed("\(logicalPath) in vault \(vaultID) is not connected to the vault root",
                                       remedy: "the fs_entry parent chain is broken; check the database")
        }
        return fileEntry(result, 0)
    }

    /// Number of rows of `table` (a name from Vaulthalla's schema; never operator text).
    public func count(_ table: String) throws -> Int {
        guard table.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw OperatorError.badInput("'\(table)' is not a table name")
        }
        return Int(try connection.query("SELECT count(*) AS n FROM \(table)")[0, "n"] ?? "") ?? 0
    }

    public func hasColumn(table: String, column: String) throws -> Bool {
        try connection.query("""
            SELECT 1 FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2
            """, [table, column]).count > 0
    }

    private static let fileColumns =
        "f.size_bytes, f.mime_type, f.content_hash, f.encryption_iv, f.encrypted_with_key_version"

    private func fileEntry(_ result: PGResult, _ row: Int) -> FileEntry {
        FileEntry(fsEntryID: Int64(result[row, "id"] ?? "") ?? 0, vaultID: Int(result[row, "vault_id"] ?? "") ?? 0,
                  logicalPath: result[row, "path"] ?? "", backingPath: result[row, "backing"] ?? "",
                  sizeBytes: Int64(result[row, "size_bytes"] ?? "") ?? 0, mimeType: result[row, "mime_type"],
                  contentHash: result[row, "content_hash"], encryptionIV: result[row, "encryption_iv"],
                  keyVersion: result[row, "encrypted_with_key_version"].flatMap { Int($0) })
    }
}
