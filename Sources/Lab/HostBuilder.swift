import Foundation
import LibPQ
import Support
import Vaulthalla

/// `vaulthalla-lab create`: a Vaulthalla host in a folder, deterministic for a seed.
public final class HostBuilder {
    public struct Options: Sendable {
        public var root: String
        public var seed: UInt64
        public var profile: Profile
        public var database: LabState.DatabaseSettings
        public var s3: LabState.S3Settings
        /// The `vaulthalla-lab` binary `bin/vh` execs.
        public var executable: String
        /// Files per vault in place of the profile's (a large host's shape at a fraction of its making time).
        public var filesPerVault: Int?

        public init(root: String, seed: UInt64, profile: Profile, database: LabState.DatabaseSettings, s3: LabState.S3Settings,
                    executable: String, filesPerVault: Int? = nil) {
            self.executable = executable
            self.filesPerVault = filesPerVault
            self.root = root
            self.seed = seed
            self.profile = profile
            self.database = database
            self.s3 = s3
        }
    }

    /// What `create` made.
    public struct Summary: Codable, Sendable {
        public var root: String
        public var database: String
        public var vaults: Int
        public var files: Int
        public var bytes: Int64
        public var s3Objects: Int
    }

    static let vaulthallaVersion = "1.6.6"

    let options: Options
    let paths: LabPaths
    var rng: LabRandom
    var state: LabState
    var db: PGConnection!
    var s3: S3Publisher!
    var nextEntryID: Int64 = 1
    var manifest: ManifestWriter!
    var summary: Summary
    var vaults: [LabVault] = []
    var userUIDs: [Int: Int] = [:]
    var fsEntries: BatchInsert!, files: BatchInsert!, directories: BatchInsert!, symlinks: BatchInsert!
    var remoteIndex: BatchInsert!

    public init(_ options: Options) {
        self.options = options
        paths = LabPaths(root: options.root)
        rng = LabRandom(seed: options.seed, stream: "create")
        var secrets = LabRandom(seed: options.seed, stream: "secrets")
        state = LabState(
            seed: options.seed, profile: options.profile, day: 0, vaulthallaVersion: Self.vaulthallaVersion,
            database: options.database, s3: options.s3,
            secrets: .init(dbPassword: secrets.bytes(24).base64EncodedString(), jwtSecret: secrets.bytes(48).base64EncodedString(),
                           master: secrets.bytes(32).base64EncodedString(), vaultMaster: secrets.bytes(32).base64EncodedString(),
                           akMaster: secrets.bytes(32).base64EncodedString()),
            vaultKeys: [])
        summary = Summary(root: paths.root, database: options.database.name, vaults: 0, files: 0, bytes: 0, s3Objects: 0)
    }

    public func create() async throws -> Summary {
        try refuseUsedRoot()
        try createDatabase()
        try prepareFolders()
        try state.save(paths) // early, so `destroy` can clean up after a create that fails half-way
        s3 = try S3Publisher(state.s3)
        manifest = try ManifestWriter(path: paths.manifestFile)
        try insertIdentity()
        try insertSecrets()
        try insertVaults()
        fsEntries = BatchInsert(db, "fs_entry (id, vault_id, parent_id, name, base32_alias, path, inode, mode, owner_uid, group_gid)")
        files = BatchInsert(db, "files (fs_entry_id, size_bytes, mime_type, content_hash, encryption_iv, encrypted_with_key_version, encryption_format)",
                            after: [fsEntries])
        directories = BatchInsert(db, "directories (fs_entry_id)", after: [fsEntries])
        symlinks = BatchInsert(db, "symlinks (fs_entry_id, target)", after: [fsEntries])
        remoteIndex = BatchInsert(db, "remote_object_index (vault_id, object_key, size_bytes, etag, last_modified, encrypted, encryption_iv, encrypted_with_key_version, content_hash)")
        let globalRoot = try entry(vault: nil, parent: nil, name: "", path: "/", alias: Alias.make(name: "/", random: rng.bytes(16)), mode: 0o755)
        try directories.add(SQL.int(globalRoot))
        for index in vaults.indices {
            try await populate(vaults[index], globalRoot: globalRoot, index: index)
        }
        for batch in [fsEntries, directories, files, symlinks, remoteIndex] { try batch!.flush() }
        try manifest.close()
        for vault in vaults where vault.type == "s3" {
            try await s3.publishManifest(vault: vault, db: db, generation: 1)
        }
        try finishDatabase()
        try insertActivity()
        try writeHostFiles()
        try writeCaches()
        try Sealing.seal(paths: paths, state: state)
        try state.save(paths)
        try VhStandIn.installScript(paths, executable: options.executable)
        summary.vaults = vaults.count
        return summary
    }

    // MARK: folders and database

    private func refuseUsedRoot() throws {
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: paths.root), !contents.isEmpty {
            throw OperatorError.badInput("\(paths.root) is not empty", remedy: "give create a new or empty folder")
        }
    }

    private func prepareFolders() throws {
        let host = paths.host
        try makeDirectory(host.configDirectory, mode: 0o755)
        try makeDirectory(host.dataDirectory, mode: 0o700)
        try makeDirectory(host.swtpmState, mode: 0o700)
        try makeDirectory(host.runDirectory, mode: 0o755)
        try makeDirectory(host.logDirectory, mode: 0o750)
        try makeDirectory(host.fuseMount, mode: 0o755)
        try makeDirectory(paths.labDirectory, mode: 0o700)
        try makeDirectory("\(paths.root)/bin", mode: 0o755)
    }

    private func createDatabase() throws {
        let settings = state.database
        let admin = try PGConnection(conninfo: settings.adminConninfo)
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [settings.name])
        guard exists.count == 0 else {
            throw OperatorError.badInput("database \(settings.name) already exists in the cluster at \(settings.host)",
                                         remedy: "drop it (`vaulthalla-lab destroy`) or choose another --database")
        }
        // One role for every lab host of the cluster; hosts created side by side may both try to make it.
        try admin.execute("""
            DO $$ BEGIN
              CREATE ROLE \(try admin.quoteIdentifier(settings.role)) LOGIN PASSWORD \(SQL.text(state.secrets.dbPassword));
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """)
        try admin.execute("CREATE DATABASE \(try admin.quoteIdentifier(settings.name)) OWNER \(try admin.quoteIdentifier(settings.role)) ENCODING 'UTF8'")
        db = try PGConnection(conninfo: settings.conninfo)
        try db.execute(Schema.migrationTable)
        for migration in Schema.migrations {
            try db.execute(migration.sql)
            _ = try db.query("INSERT INTO schema_migrations (filename, sha256) VALUES ($1, $2)",
                             [migration.file, ContentHash.sha256Hex(Data(migration.sql.utf8))])
        }
    }

    private func finishDatabase() throws {
        try Mutator.refreshDirectoryCounts(db)
        try db.execute("""
            SELECT setval('fs_entry_id_seq', (SELECT max(id) FROM fs_entry));
            SELECT setval('vault_id_seq', (SELECT max(id) FROM vault));
            SELECT setval('users_id_seq', (SELECT max(id) FROM users));
            ANALYZE;
            """)
    }

    // MARK: identity, secrets, vaults

    private func insertIdentity() throws {
        let profile = state.profile
        let users = BatchInsert(db, "users (id, linux_uid, name, email, password_hash, is_active)")
        for id in 1...(profile.users + 1) {
            let name = id <= Names.users.count ? Names.users[id - 1] : "user\(id)"
            userUIDs[id] = 1000 + id
            try users.add(SQL.int(id), SQL.int(1000 + id), SQL.text(name), SQL.text("\(name)@lab.invalid"),
                          SQL.text("$argon2id$v=19$m=65536,t=2,p=1$" + rng.bytes(16).base64EncodedString()),
                          SQL.bool(id != profile.users + 1))
        }
        try users.flush()
        for g in 1...profile.groups {
            try db.execute("INSERT INTO groups (id, linux_gid, name, description) VALUES (\(g), \(2000 + g), \(SQL.text("group \(g)")), 'lab group')")
            for u in 2...(profile.users + 1) where (u + g) % 2 == 0 {
                try db.execute("INSERT INTO group_members (group_id, user_id) VALUES (\(g), \(u))")
            }
        }
        try db.execute("""
            INSERT INTO permission (bit_position, name, description, category) VALUES
              (0, 'list', 'list entries', 'vault'), (1, 'download', 'read files', 'vault'),
              (2, 'upload', 'write files', 'vault'), (3, 'delete', 'delete files', 'vault'),
              (4, 'share', 'create share links', 'vault'), (0, 'manage_users', 'manage users', 'admin'),
              (1, 'manage_vaults', 'manage vaults', 'admin');
            INSERT INTO vault_role (id, name, description, permissions) VALUES
              (1, 'Viewer', 'read only', 3), (2, 'Editor', 'read and write', 15), (3, 'Manager', 'everything', 31);
            INSERT INTO admin_role (id, name, description, permissions) VALUES
              (1, 'super_admin', 'everything', 3), (2, 'admin', 'users only', 1);
            INSERT INTO admin_role_assignments (user_id, role_id) VALUES (1, 1), (2, 2);
            INSERT INTO user_global_vault_policy (user_id, template_role_id) VALUES (2, 2), (3, 1);
            """)
    }

    private func insertSecrets() throws {
        let jwtNonce = rng.bytes(12)
        let jwt = try BodyCipher.seal(Data(state.secrets.jwtSecret.utf8), key: state.masterKey, nonce: jwtNonce)
        _ = try db.query("INSERT INTO internal_secrets (key, value, iv) VALUES ('jwt_secret', $1::bytea, $2::bytea)",
                         [hexBytea(jwt), hexBytea(jwtNonce)])
        let akNonce = rng.bytes(12)
        let secret = try BodyCipher.seal(Data(state.s3.secretAccessKey.utf8), key: state.akMasterKey, nonce: akNonce)
        _ = try db.query("""
            INSERT INTO api_keys (id, user_id, name, provider, access_key, encrypted_secret_access_key, iv, region, endpoint)
            VALUES (1, 1, 'lab object store', 'AWS', $1, $2::bytea, $3::bytea, $4, $5)
            """, [state.s3.accessKeyID, hexBytea(secret), hexBytea(akNonce), state.s3.region, state.s3.endpoint])
    }

    private func insertVaults() throws {
        let profile = state.profile
        var plans: [(name: String, type: String, deleted: Bool)] = []
        for i in 0..<profile.localVaults { plans.append((Names.localVaults[i % Names.localVaults.count], "local", false)) }
        for i in 0..<profile.s3Vaults { plans.append((Names.s3Vaults[i % Names.s3Vaults.count], "s3", false)) }
        plans.append((Names.deletedVault, "local", true))
        for (index, plan) in plans.enumerated() {
            let id = index + 1
            // The second local vault has been rotated twice: versions 1 and 2 are in vault_keys_trashed.
            let versions = index == 1 ? 3 : 1
            let bucket = plan.type == "s3" ? S3Publisher.bucketName(database: state.database.name, vaultID: id) : nil
            let vault = LabVault(id: id, name: plan.name, type: plan.type,
                                 mountPoint: Alias.make(name: plan.name, random: rng.bytes(16)),
                                 ownerID: 1 + index % (profile.users + 1), bucket: bucket, deleted: plan.deleted,
                                 currentVersion: versions)
            _ = try db.query("""
                INSERT INTO vault (id, type, name, description, quota, owner_id, mount_point, is_active, slug, fuse_name, deleted_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $3, $10)
                """, [String(id), plan.type, plan.name, "lab vault \(plan.name)", index % 2 == 0 ? nil : String(50 << 30),
                      String(vault.ownerID), vault.mountPoint, plan.deleted ? "false" : "true",
                      plan.name.lowercased().replacingOccurrences(of: " ", with: "-"),
                      plan.deleted ? "2026-11-01 12:00:00+00" : nil])
            if let bucket {
                _ = try db.query("INSERT INTO s3 (vault_id, api_key_id, bucket, encrypt_upstream) VALUES ($1, 1, $2, true)",
                                 [String(id), bucket])
            }
            for version in 1...versions {
                let key = rng.bytes(32), nonce = rng.bytes(12)
                state.vaultKeys.append(.init(vaultID: id, version: version, key: key.base64EncodedString()))
                let wrapped = try BodyCipher.seal(key, key: state.vaultMasterKey, nonce: nonce)
                if version == versions {
                    _ = try db.query("INSERT INTO vault_keys (vault_id, encrypted_key, iv, version) VALUES ($1, $2::bytea, $3::bytea, $4)",
                                     [String(id), hexBytea(wrapped), hexBytea(nonce), String(version)])
                } else {
                    _ = try db.query("""
                        INSERT INTO vault_keys_trashed (vault_id, version, encrypted_key, iv, trashed_at, rotation_completed_at)
                        VALUES ($1, $2, $3::bytea, $4::bytea, now() - interval '1 day' * $5, NULL)
                        """, [String(id), String(version), hexBytea(wrapped), hexBytea(nonce), String(10 * (versions - version))])
                }
            }
            if plan.deleted {
                _ = try db.query("INSERT INTO vault_deletion (vault_id, requested_by, purge_after) VALUES ($1, 1, now() + interval '30 days')",
                                 [String(id)])
            }
            try makeDirectory(paths.host.vaultDirectory(mountPoint: vault.mountPoint), mode: 0o700)
            vaults.append(vault)
        }
    }

    // MARK: trees and bodies

    @discardableResult
    private func entry(vault: Int?, parent: Int64?, name: String, path: String, alias: String, mode: Int, owner: Int = 1) throws -> Int64 {
        let id = nextEntryID
        nextEntryID += 1
        try fsEntries.add(SQL.int(id), SQL.int(vault), SQL.int(parent), SQL.text(name), SQL.text(alias), SQL.text(path),
                          SQL.int(id), SQL.int(mode), SQL.int(userUIDs[owner] ?? 1001), SQL.int(2001))
        return id
    }

    private func directory(in vault: LabVault, parent: LabDirectory, name: String) throws -> LabDirectory {
        let alias = Alias.make(name: name, random: rng.bytes(16))
        let path = parent.childPath(name)
        let id = try entry(vault: vault.id, parent: parent.id, name: name, path: path, alias: alias, mode: 0o755, owner: vault.ownerID)
        try directories.add(SQL.int(id))
        let dir = LabDirectory(id: id, path: path, backing: "\(parent.backing)/\(alias)", depth: parent.depth + 1)
        try makeDirectory(paths.host.bodyPath(dir.backing), mode: 0o700)
        return dir
    }

    private enum BodyKind { case encrypted(version: Int, recorded: Int?), plaintext }

    private func file(in vault: LabVault, dir: LabDirectory, name: String, size: Int, kind: BodyKind) async throws {
        let alias = Alias.make(name: name, random: rng.bytes(16))
        let path = dir.childPath(name)
        let id = try entry(vault: vault.id, parent: dir.id, name: name, path: path, alias: alias, mode: 0o644, owner: vault.ownerID)
        let plaintext = Content.make(seed: state.seed, contentID: "\(id)/0", size: size)
        let stored: StoredBody
        var recorded: Int?
        switch kind {
        case .plaintext:
            stored = StoredBody.plain(plaintext)
        case .encrypted(let version, let recordedVersion):
            stored = try StoredBody.encrypted(plaintext, key: state.key(vault: vault.id, version: version)!, version: version,
                                              nonce: rng.bytes(12))
            recorded = recordedVersion
        }
        try stored.write(to: paths.host.bodyPath("\(dir.backing)/\(alias)"))
        try files.add(SQL.int(id), SQL.int(size), SQL.text(Names.mime(forName: name)), SQL.text(stored.contentHash),
                      SQL.text(stored.iv), SQL.int(recorded), stored.iv.isEmpty ? "0" : "1")
        try manifest.add(id: id, plaintext: plaintext)
        summary.files += 1
        summary.bytes += Int64(stored.body.count)
        if let bucket = vault.bucket, let version = stored.keyVersion {
            let etag = try await s3.put(bucket: bucket, key: String(path.dropFirst()), stored: stored, version: version)
            try remoteIndex.add(SQL.int(vault.id), SQL.text(String(path.dropFirst())), SQL.int(stored.body.count), SQL.text(etag),
                                "now()", "true", SQL.text(stored.iv), SQL.int(version), SQL.text(stored.contentHash))
            summary.s3Objects += 1
        }
    }

    private func populate(_ vault: LabVault, globalRoot: Int64, index: Int) async throws {
        let profile = state.profile
        let rootID = try entry(vault: vault.id, parent: vault.deleted ? nil : globalRoot, name: vault.name, path: "/",
                               alias: vault.mountPoint, mode: 0o755, owner: vault.ownerID)
        try directories.add(SQL.int(rootID))
        if let bucket = vault.bucket { try await s3.ensureBucket(bucket) }
        let root = LabDirectory(id: rootID, path: "/", backing: vault.mountPoint, depth: 0)
        let perVault = options.filesPerVault ?? profile.filesPerVault
        var fileCount = vault.deleted ? max(3, perVault / 10) : perVault
        if vault.type == "s3" { fileCount = min(fileCount, 400) }

        // A random tree of folders; files land in any of them.
        var dirs = [root]
        let wantedDirs = max(2, fileCount / 6)
        var counter = 0
        while dirs.count < wantedDirs {
            let parent = rng.pick(dirs)
            guard parent.depth < profile.maxDepth else { continue }
            counter += 1
            dirs.append(try directory(in: vault, parent: parent, name: "\(rng.pick(Names.words)) \(counter)"))
        }
        let current = vault.currentVersion
        for j in 0..<fileCount {
            let (ext, _) = rng.pick(Names.extensions)
            let name = "\(rng.pick(Names.words)) \(j).\(ext)"
            let u = Double.random(in: 0..<1, using: &rng)
            let size = max(1, Int(Double(profile.maxFileSize) * u * u * u))
            var kind = BodyKind.encrypted(version: current, recorded: current)
            if current > 1 {
                // After the rotations: a fifth of the files are still on version 2, and a few carry a stale
                // encrypted_with_key_version (1.1.0 did not always update it).
                if j % 5 == 1 { kind = .encrypted(version: 2, recorded: 2) }
                if j % 7 == 3 { kind = .encrypted(version: current, recorded: 1) }
            }
            try await file(in: vault, dir: rng.pick(dirs), name: name, size: size, kind: kind)
        }
        if index == 0 { try await awkwardCases(vault, root: root) }
    }

    /// The first local vault gets what real hosts have and tools trip over.
    private func awkwardCases(_ vault: LabVault, root: LabDirectory) async throws {
        var deep = root
        for level in 1...20 { deep = try directory(in: vault, parent: deep, name: String(format: "level %02d", level)) }
        try await file(in: vault, dir: deep, name: "at depth 20.txt", size: 300, kind: .encrypted(version: 1, recorded: 1))
        try await file(in: vault, dir: root, name: "empty file.txt", size: 0, kind: .plaintext)
        try await file(in: vault, dir: root, name: "written by 1.1.0 über FUSE.txt", size: 2_000, kind: .plaintext)
        try await file(in: vault, dir: root, name: "   leading and trailing spaces   .md", size: 100, kind: .encrypted(version: 1, recorded: 1))
        if state.profile.largeFileSize > 0 {
            try await file(in: vault, dir: root, name: "big video.mp4", size: state.profile.largeFileSize,
                           kind: .encrypted(version: 1, recorded: 1))
        }
        let link = try entry(vault: vault.id, parent: root.id, name: "shortcut to deep", path: "/shortcut to deep",
                             alias: Alias.make(name: "shortcut to deep", random: rng.bytes(16)), mode: 0o777, owner: vault.ownerID)
        try symlinks.add(SQL.int(link), SQL.text(deep.path))
        let dangling = try entry(vault: vault.id, parent: root.id, name: "dangling link", path: "/dangling link",
                                 alias: Alias.make(name: "dangling link", random: rng.bytes(16)), mode: 0o777, owner: vault.ownerID)
        try symlinks.add(SQL.int(dangling), SQL.text("/no such file"))
    }

    // MARK: sharing, sync, budgets, audit

    private func insertActivity() throws {
        let live = vaults.filter { !$0.deleted }
        for (i, vault) in live.prefix(2).enumerated() {
            let share = uuid(), session = uuid()
            try db.execute("""
                INSERT INTO share_link (id, vault_id, root_entry_id, created_by, token_hash, link_type, access_mode, allowed_ops, expires_at, max_downloads)
                  SELECT '\(share)', \(vault.id), id, \(vault.ownerID), \(SQL.text(ContentHash.hexString(rng.bytes(32)))),
                         \(i == 0 ? "'public'" : "'email_verified'"), 'read', 3, now() + interval '14 days', 50
                  FROM fs_entry WHERE vault_id = \(vault.id) AND path = '/';
                INSERT INTO share_session (id, share_id, session_token_hash, email_hash, verified_at, expires_at)
                  VALUES ('\(session)', '\(share)', \(SQL.text(ContentHash.hexString(rng.bytes(32)))), NULL, now(), now() + interval '1 day');
                INSERT INTO share_access_event (share_id, session_id, event_type, path, bytes_transferred, status)
                  VALUES ('\(share)', '\(session)', 'download', '/', 1024, 'ok');
                INSERT INTO share_vault_role_assignment (share_id, vault_role_id) VALUES ('\(share)', 1);
                """)
        }
        try db.execute("""
            INSERT INTO s3_price_budget_policy (scope, vault_id, mode, currency, max_run_cost, max_daily_cost, max_monthly_cost)
              VALUES ('global', NULL, 'warn', 'USD', 1.00, 5.00, 50.00);
            """)
        for vault in live {
            try db.execute("""
                INSERT INTO vault_role_assignments (vault_id, subject_type, subject_id, role_id) VALUES
                  (\(vault.id), 'user', \(vault.ownerID), 3), (\(vault.id), 'group', 1, 1);
                INSERT INTO sync (id, vault_id, interval, enabled, last_sync_at, last_success_at)
                  VALUES (\(vault.id), \(vault.id), '\(vault.type == "s3" ? 5 : 15) minutes', true, now(), now());
                INSERT INTO audit_log (user_id, action, target_type, target_id, details)
                  VALUES (\(vault.ownerID), 'vault.create', 'vault', '\(vault.id)', \(SQL.text("{\"name\": \(jsonString(vault.name))}")));
                """)
            if vault.type == "s3" {
                try db.execute("""
                    INSERT INTO rsync (sync_id, strategy, conflict_policy, s3_budget_get_requests, s3_budget_put_requests,
                                       s3_budget_list_requests, s3_budget_downloaded_bytes, max_remote_index_age_seconds)
                      VALUES (\(vault.id), 'sync', 'keep_remote', 100000, 50000, 10000, 10737418240, 3600);
                    INSERT INTO s3_price_budget_policy (scope, vault_id, mode, currency, max_run_cost, max_daily_cost, max_monthly_cost)
                      VALUES ('vault', \(vault.id), 'enforce', 'USD', 0.50, 2.00, 20.00);
                    INSERT INTO s3_price_budget_ledger (policy_id, vault_id, period_start, requests_get, requests_put, bytes_downloaded, estimated_cost)
                      SELECT id, \(vault.id), current_date - d, 1200 / (d + 1), 340 / (d + 1), 52428800 / (d + 1), 0.0123 / (d + 1)
                      FROM s3_price_budget_policy, generate_series(0, 1) AS d WHERE vault_id = \(vault.id);
                    INSERT INTO sync_event (vault_id, sync_id, status, trigger, started_at, finished_at, num_ops_total, bytes_up, bytes_down)
                      VALUES (\(vault.id), \(vault.id), 'success', 'schedule', now() - interval '5 minutes', now(), 12, 1048576, 0);
                    """)
            } else {
                try db.execute("INSERT INTO fsync (sync_id, conflict_policy) VALUES (\(vault.id), 'keep_local')")
            }
        }
        try db.execute("""
            INSERT INTO s3_price_budget_alert_state (policy_id, last_level, last_alert_at) VALUES (1, 'warn', now());
            INSERT INTO operator_notification (kind, severity, message) VALUES ('s3_budget', 'warning', 'daily S3 budget at 80%');
            INSERT INTO audit_log (user_id, action, target_type, target_id, details)
              VALUES (1, 'vault.keys.rotate', 'vault', '2', '{"from_version": 2, "to_version": 3}');
            INSERT INTO refresh_tokens (jti, user_id, token_hash, expires_at) VALUES ('\(uuid())', 1, 'lab', now() + interval '7 days');
            SELECT setval('sync_id_seq', (SELECT max(id) FROM sync));
            """)
    }

    // MARK: files beside the bodies

    private func writeHostFiles() throws {
        let host = paths.host
        var config = VaulthallaConfig.defaults(databaseHost: state.database.host, databasePort: state.database.port)
        config.database.name = state.database.name
        config.database.user = state.database.role
        try writeFile(host.configFile, Data(try config.yaml().utf8), mode: 0o644)
        try writeFile("\(host.dataDirectory)/super_admin_initial_password", Data(rng.bytes(12).base64EncodedString().utf8), mode: 0o600)
        try writeFile("\(host.dataDirectory)/price-cache/storage-rates-v1.json",
                      Data(#"{"provider":"aws","region":"us-east-1","signed":true}"#.utf8), mode: 0o644)
        try writeFile("\(host.logDirectory)/vaulthalla.log", Data("lab host created\n".utf8), mode: 0o640)
    }

    /// `.cache/` (plaintext thumbnails, encrypted derived files) and `.fuse-plaintext/` (decrypted working
    /// copies): content a backup must leave out by default.
    private func writeCaches() throws {
        let data = paths.host.dataDirectory
        guard let vault = vaults.first else { return }
        let sample = Content.make(seed: state.seed, contentID: "thumbnail", size: 4_096)
        try writeFile("\(data)/.cache/\(vault.mountPoint)/thumbnails/128/photo.jpg", Data([0xFF, 0xD8, 0xFF, 0xE0]) + sample)
        try writeFile("\(data)/.cache/\(vault.mountPoint)/derived/7/thumbnail.256.vhd", Data("VHDERIV1".utf8) + rng.bytes(512))
        try writeFile("\(data)/.fuse-plaintext/4242-\(ContentHash.hexString(rng.bytes(4))).plain",
                      Content.make(seed: state.seed, contentID: "open file", size: 8_192), mode: 0o600)
    }

    // MARK: helpers

    private func uuid() -> String {
        var b = [UInt8](rng.bytes(16))
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = ContentHash.hexString(Data(b))
        let h = Array(hex)
        return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
    }
}

func hexBytea(_ data: Data) -> String { "\\x" + ContentHash.hexString(data) }

func jsonString(_ text: String) -> String {
    String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
}
