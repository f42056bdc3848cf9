import Foundation
import LibPQ
import Support
import Vaulthalla

/// `vaulthalla-lab mutate --day N`: a day of use. New files, edits (new IV, current key), deletes (tombstones in
/// `files_trashed`), renames, every third day a key rotation, and the matching S3 changes.
public enum Mutator {
    public struct Summary: Codable, Sendable {
        public var day: Int
        public var added = 0
        public var edited = 0
        public var deleted = 0
        public var renamed = 0
        public var rotatedVaults: [String] = []
        public var s3Changes = 0
    }

    public static func mutate(root: String, day: Int) async throws -> Summary {
        let paths = LabPaths(root: root)
        var state = try LabState.load(paths)
        guard day > state.day else {
            throw OperatorError.badInput("day \(day) is not after the host's day \(state.day)", remedy: "mutate --day \(state.day + 1)")
        }
        var manifest = try Manifest.load(paths.manifestFile)
        var rng = LabRandom(seed: state.seed, stream: "day \(day)")
        let vaulthalla = try VaulthallaDatabase(conninfo: state.database.conninfo)
        let db = vaulthalla.connection
        let s3 = try S3Publisher(state.s3)
        var summary = Summary(day: day)
        let live = try vaulthalla.vaults().filter { !$0.deleted }

        try db.execute("BEGIN")
        if day % 3 == 0, !live.isEmpty {
            let vault = live[live.count - 1 - (day / 3 - 1) % live.count] // the S3 vault first, then the others
            try rotate(vault: vault, state: &state, rng: &rng, db: db)
            summary.rotatedVaults.append(vault.name)
        }
        let rings = try vaulthalla.keyrings(vaultMaster: state.vaultMasterKey)
        for vault in live {
            let ring = rings[vault.id]!
            let key = ring.keys[ring.currentVersion]!
            let labVault = LabVault(id: vault.id, name: vault.name, type: vault.type, mountPoint: vault.mountPoint,
                                    ownerID: vault.ownerID, bucket: vault.bucket, deleted: false, currentVersion: ring.currentVersion)
            // The awkward cases (depth 20, empty and plaintext bodies) stay as they are, day after day.
            let all = try vaulthalla.files(vaultID: vault.id)
            // A day changes about 4% of each vault (S3 vaults are smaller than local ones).
            let changes = max(2, all.count / 25)
            var files = all.filter { !$0.logicalPath.contains("/level ") && !($0.encryptionIV ?? "").isEmpty }
            files.shuffle(using: &rng)
            let dirs = try directories(vaultID: vault.id, db: db)
            let context = Context(paths: paths, state: state, db: db, s3: s3, vault: labVault, key: key)

            for file in files.prefix(changes) {
                try await context.edit(file, plaintext: Content.make(seed: state.seed, contentID: "\(file.fsEntryID)/day \(day)",
                                                                     size: Int.random(in: 1...max(1, state.profile.maxFileSize / 4), using: &rng)),
                                       nonce: rng.bytes(12), manifest: &manifest)
                summary.edited += 1
                if vault.bucket != nil { summary.s3Changes += 1 }
            }
            for file in files.dropFirst(changes).prefix(changes / 2 + 1) {
                try await context.delete(file, manifest: &manifest)
                summary.deleted += 1
                if vault.bucket != nil { summary.s3Changes += 1 }
            }
            for (n, file) in files.dropFirst(changes + changes / 2 + 1).prefix(changes / 2 + 1).enumerated() {
                let ext = file.logicalPath.split(separator: ".").last.map { ".\($0)" } ?? ""
                try await context.rename(file, to: "\(rng.pick(Names.words)) renamed day \(day) \(n)\(ext)")
                summary.renamed += 1
                if vault.bucket != nil { summary.s3Changes += 1 }
            }
            for n in 0..<changes {
                let (ext, _) = rng.pick(Names.extensions)
                let size = Int.random(in: 1...state.profile.maxFileSize, using: &rng)
                try await context.add(in: rng.pick(dirs), name: "\(rng.pick(Names.words)) day \(day) new \(n).\(ext)", size: size,
                                      rng: &rng, manifest: &manifest)
                summary.added += 1
                if vault.bucket != nil { summary.s3Changes += 1 }
            }
        }
        try refreshDirectoryCounts(db)
        try db.execute("COMMIT")
        for vault in live where vault.bucket != nil {
            try await s3.publishManifest(vault: LabVault(id: vault.id, name: vault.name, type: vault.type, mountPoint: vault.mountPoint,
                                                         ownerID: vault.ownerID, bucket: vault.bucket, deleted: false, currentVersion: 0),
                                         db: db, generation: Int64(day + 1))
        }
        state.day = day
        try manifest.save(paths.manifestFile)
        try state.save(paths)
        return summary
    }

    /// A new current key: the old one moves to `vault_keys_trashed`; bodies stay on the version they were written with.
    static func rotate(vault: VaulthallaDatabase.Vault, state: inout LabState, rng: inout LabRandom, db: PGConnection) throws {
        let current = try db.query("SELECT version FROM vault_keys WHERE vault_id = $1", [String(vault.id)])
        let version = (Int(current[0, "version"] ?? "") ?? 0) + 1
        let key = rng.bytes(32), nonce = rng.bytes(12)
        let wrapped = try BodyCipher.seal(key, key: state.vaultMasterKey, nonce: nonce)
        _ = try db.query("""
            INSERT INTO vault_keys_trashed (vault_id, version, encrypted_key, iv, created_at, trashed_at, rotation_completed_at)
              SELECT vault_id, version, encrypted_key, iv, created_at, now(), now() FROM vault_keys WHERE vault_id = $1
            """, [String(vault.id)])
        _ = try db.query("""
            UPDATE vault_keys SET encrypted_key = $2::bytea, iv = $3::bytea, version = $4, created_at = now(), updated_at = now()
            WHERE vault_id = $1
            """, [String(vault.id), hexBytea(wrapped), hexBytea(nonce), String(version)])
        _ = try db.query("""
            INSERT INTO audit_log (user_id, action, target_type, target_id, details)
            VALUES ($1, 'vault.keys.rotate', 'vault', $2, jsonb_build_object('to_version', $3::int))
            """, [String(vault.ownerID), String(vault.id), String(version)])
        state.vaultKeys.append(.init(vaultID: vault.id, version: version, key: key.base64EncodedString()))
    }

    /// Every folder of a vault with its alias path.
    static func directories(vaultID: Int, db: PGConnection) throws -> [LabDirectory] {
        let rows = try db.query("""
            WITH RECURSIVE chain AS (
                SELECT e.id, e.path, e.base32_alias::text AS backing, 0 AS depth
                FROM fs_entry e JOIN vault v ON v.id = e.vault_id
                WHERE e.vault_id = $1 AND e.path = '/' AND e.base32_alias = v.mount_point
              UNION ALL
                SELECT c.id, c.path, chain.backing || '/' || c.base32_alias, chain.depth + 1
                FROM fs_entry c JOIN chain ON c.parent_id = chain.id JOIN directories d ON d.fs_entry_id = c.id
            )
            SELECT id, path, backing, depth FROM chain ORDER BY id
            """, [String(vaultID)])
        return (0..<rows.count).map {
            LabDirectory(id: Int64(rows[$0, "id"] ?? "") ?? 0, path: rows[$0, "path"] ?? "/", backing: rows[$0, "backing"] ?? "",
                         depth: Int(rows[$0, "depth"] ?? "") ?? 0)
        }
    }

    static func refreshDirectoryCounts(_ db: PGConnection) throws {
        try db.execute("""
            UPDATE directories d SET
              file_count = (SELECT count(*) FROM fs_entry c JOIN files f ON f.fs_entry_id = c.id WHERE c.parent_id = d.fs_entry_id),
              subdirectory_count = (SELECT count(*) FROM fs_entry c JOIN directories s ON s.fs_entry_id = c.id WHERE c.parent_id = d.fs_entry_id),
              size_bytes = (SELECT coalesce(sum(f.size_bytes), 0) FROM fs_entry c JOIN files f ON f.fs_entry_id = c.id WHERE c.parent_id = d.fs_entry_id)
            """)
    }

    /// One vault's changes, as the daemon makes them: body on disk, rows, and the S3 object.
    struct Context {
        let paths: LabPaths
        let state: LabState
        let db: PGConnection
        let s3: S3Publisher
        let vault: LabVault
        let key: Data

        func edit(_ file: VaulthallaDatabase.FileEntry, plaintext: Data, nonce: Data, manifest: inout Manifest) async throws {
            let stored = try StoredBody.encrypted(plaintext, key: key, version: vault.currentVersion, nonce: nonce)
            try stored.write(to: paths.host.bodyPath(file.backingPath))
            _ = try db.query("""
                UPDATE files SET size_bytes = $2, content_hash = $3, encryption_iv = $4, encrypted_with_key_version = $5,
                                 encryption_format = 1 WHERE fs_entry_id = $1
                """, [String(file.fsEntryID), String(plaintext.count), stored.contentHash, stored.iv, String(vault.currentVersion)])
            _ = try db.query("UPDATE fs_entry SET updated_at = now() WHERE id = $1", [String(file.fsEntryID)])
            manifest.entries[file.fsEntryID] = .init(sha256: Manifest.digest(plaintext), size: plaintext.count)
            try await upload(path: file.logicalPath, stored: stored)
        }

        func delete(_ file: VaulthallaDatabase.FileEntry, manifest: inout Manifest) async throws {
            _ = try db.query("""
                INSERT INTO files_trashed (vault_id, fs_entry_id, base32_alias, path, backing_path, size_bytes, content_hash,
                                           encryption_iv, encrypted_with_key_version, trashed_by)
                SELECT e.vault_id, e.id, e.base32_alias, e.path, $2, f.size_bytes, f.content_hash, f.encryption_iv,
                       f.encrypted_with_key_version, $3
                FROM fs_entry e JOIN files f ON f.fs_entry_id = e.id WHERE e.id = $1
                """, [String(file.fsEntryID), file.backingPath, String(vault.ownerID)])
            _ = try db.query("DELETE FROM fs_entry WHERE id = $1", [String(file.fsEntryID)])
            try? FileManager.default.removeItem(atPath: paths.host.bodyPath(file.backingPath))
            manifest.entries.removeValue(forKey: file.fsEntryID)
            if let bucket = vault.bucket {
                let key = String(file.logicalPath.dropFirst())
                try await s3.delete(bucket: bucket, key: key)
                _ = try db.query("DELETE FROM remote_object_index WHERE vault_id = $1 AND object_key = $2", [String(vault.id), key])
            }
        }

        /// Renames keep the alias (and so the body); only the name and path change, and the object key upstream.
        func rename(_ file: VaulthallaDatabase.FileEntry, to name: String) async throws {
            let parent = (file.logicalPath as NSString).deletingLastPathComponent
            let path = parent == "/" ? "/\(name)" : "\(parent)/\(name)"
            _ = try db.query("UPDATE fs_entry SET name = $2, path = $3, updated_at = now() WHERE id = $1",
                             [String(file.fsEntryID), name, path])
            if let bucket = vault.bucket, let body = FileManager.default.contents(atPath: paths.host.bodyPath(file.backingPath)),
               let version = file.keyVersion {
                let stored = StoredBody(body: body, iv: file.encryptionIV ?? "", keyVersion: version, contentHash: file.contentHash ?? "")
                let oldKey = String(file.logicalPath.dropFirst())
                try await s3.delete(bucket: bucket, key: oldKey)
                _ = try db.query("DELETE FROM remote_object_index WHERE vault_id = $1 AND object_key = $2", [String(vault.id), oldKey])
                try await upload(path: path, stored: stored)
            }
        }

        func add(in dir: LabDirectory, name: String, size: Int, rng: inout LabRandom, manifest: inout Manifest) async throws {
            let alias = Alias.make(name: name, random: rng.bytes(16))
            let row = try db.query("""
                INSERT INTO fs_entry (vault_id, parent_id, name, base32_alias, path, mode, owner_uid, group_gid)
                VALUES ($1, $2, $3, $4, $5, 420, $6, 2001) RETURNING id
                """, [String(vault.id), String(dir.id), name, alias, dir.childPath(name), String(1000 + vault.ownerID)])
            let id = Int64(row[0, "id"] ?? "") ?? 0
            _ = try db.query("UPDATE fs_entry SET inode = id WHERE id = $1", [String(id)])
            let plaintext = Content.make(seed: state.seed, contentID: "\(id)/0", size: size)
            let stored = try StoredBody.encrypted(plaintext, key: key, version: vault.currentVersion, nonce: rng.bytes(12))
            try stored.write(to: paths.host.bodyPath("\(dir.backing)/\(alias)"))
            _ = try db.query("""
                INSERT INTO files (fs_entry_id, size_bytes, mime_type, content_hash, encryption_iv, encrypted_with_key_version, encryption_format)
                VALUES ($1, $2, $3, $4, $5, $6, 1)
                """, [String(id), String(size), Names.mime(forName: name), stored.contentHash, stored.iv, String(vault.currentVersion)])
            manifest.entries[id] = .init(sha256: Manifest.digest(plaintext), size: size)
            try await upload(path: dir.childPath(name), stored: stored)
        }

        private func upload(path: String, stored: StoredBody) async throws {
            guard let bucket = vault.bucket, let version = stored.keyVersion else { return }
            let key = String(path.dropFirst())
            let etag = try await s3.put(bucket: bucket, key: key, stored: stored, version: version)
            _ = try db.query("""
                INSERT INTO remote_object_index (vault_id, object_key, size_bytes, etag, last_modified, encrypted, encryption_iv,
                                                 encrypted_with_key_version, content_hash)
                VALUES ($1, $2, $3, $4, now(), true, $5, $6, $7)
                ON CONFLICT (vault_id, object_key) DO UPDATE SET size_bytes = $3, etag = $4, last_modified = now(),
                    encryption_iv = $5, encrypted_with_key_version = $6, content_hash = $7
                """, [String(vault.id), key, String(stored.body.count), etag, stored.iv, String(version), stored.contentHash])
        }
    }
}
