import Foundation
import LibPQ
import Support
import Vaulthalla

/// The lab's `vh`: answers what Valkyrie asks of Vaulthalla's client, in Vaulthalla's formats, from the lab
/// host's database and ground truth. `ROOT/lab/vh-fail` (an exit code, then a message) makes it fail;
/// `ROOT/lab/vh-status` sets what `vh status` reports.
public struct VhStandIn {
    public struct Reply: Sendable {
        public var stdout = Data()
        public var stderr = ""
        public var status: Int32 = 0
    }

    let paths: LabPaths

    public init(root: String) {
        paths = LabPaths(root: root)
    }

    /// `ROOT/bin/vh`: execs the stand-in for this root.
    static func installScript(_ paths: LabPaths, executable: String) throws {
        let script = "#!/bin/sh\nexec '\(executable)' vh --root '\(paths.root)' \"$@\"\n"
        try writeFile(paths.vhScript, Data(script.utf8), mode: 0o755)
    }

    public func run(_ arguments: [String]) -> Reply {
        if let failure = try? String(contentsOfFile: paths.vhFailFile, encoding: .utf8) {
            let parts = failure.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1)
            let code = Int32(parts.first ?? "") ?? 69
            let message = parts.count > 1 ? String(parts[1]) : "daemon down"
            return Reply(stderr: "vh: cannot reach \(paths.host.cliSocket): \(message)\n", status: code)
        }
        do {
            return try dispatch(arguments)
        } catch let error as OperatorError {
            return Reply(stderr: "vh: \(error.description)\n", status: error.status == .usage ? 2 : 1)
        } catch {
            return Reply(stderr: "vh: \(error)\n", status: 1)
        }
    }

    private func dispatch(_ args: [String]) throws -> Reply {
        let state = try LabState.load(paths)
        switch args.first {
        case "version":
            return Reply(stdout: Data("Vaulthalla v\(state.vaulthallaVersion)\n".utf8))
        case "status":
            return status(state)
        case "vaults":
            return try vaults(state, json: args.contains("--json"))
        case "vault" where args.count >= 4 && args[1] == "sync" && args[2] == "info":
            return try syncInfo(state, vault: args[3])
        case "vault" where args.count >= 4 && args[1] == "keys" && args[2] == "export":
            let flags = try Flags(Array(args.dropFirst(4)))
            return try deliver(try keyExport(state, which: args[3]), compactWhenEncrypted: true, flags: flags)
        case "secret" where args.count >= 3 && args[1] == "export":
            let flags = try Flags(Array(args.dropFirst(3)))
            return try deliver(try secretExport(state, which: args[2]), compactWhenEncrypted: true, flags: flags)
        default:
            throw OperatorError.badInput("unknown command '\(args.joined(separator: " "))'",
                                         remedy: "commands: version, status, vaults, vault sync info, vault keys export, secret export")
        }
    }

    /// `--output ABS` and `--recipient FPR`.
    struct Flags {
        var output: String?
        var recipient: String?

        init(_ args: [String]) throws {
            var i = 0
            while i < args.count {
                guard i + 1 < args.count, ["--output", "--recipient"].contains(args[i]) else {
                    throw OperatorError.badInput("unexpected argument '\(args[i])'", remedy: "use --output FILE and --recipient FPR")
                }
                if args[i] == "--output" { output = args[i + 1] } else { recipient = args[i + 1] }
                i += 2
            }
            if recipient != nil && output == nil {
                throw OperatorError.badInput("--recipient needs --output")
            }
            if let output, !output.hasPrefix("/") {
                throw OperatorError.failed("--output must be an absolute path: \(output)")
            }
        }
    }

    private func database(_ state: LabState) throws -> VaulthallaDatabase {
        try VaulthallaDatabase(conninfo: state.database.conninfo)
    }

    private func status(_ state: LabState) -> Reply {
        var level = (try? String(contentsOfFile: paths.vhStatusFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "healthy"
        var detail = "database: ok"
        if (try? database(state)) == nil {
            level = "critical"
            detail = "database: unreachable"
        }
        let code: Int32 = level == "healthy" ? 0 : level == "degraded" ? 1 : 2
        let tpm = LabSwtpm.runningTCTI(paths) ?? "swtpm, state \(paths.host.swtpmState) (not running)"
        return Reply(stdout: Data("vh status: \(level)\n  \(detail)\n  tpm: \(tpm)\n".utf8), status: code)
    }

    private func vaults(_ state: LabState, json: Bool) throws -> Reply {
        let rows = try database(state).vaults()
        if !json {
            return Reply(stdout: Data(rows.map { "\($0.id)\t\($0.name)\t\($0.type)\t\($0.mountPoint)\n" }.joined().utf8))
        }
        struct Row: Encodable {
            var id: Int, name: String, type: String, description: String?, quota: Int64?, owner_id: Int
            var mount_point: String, is_active: Bool, created_at: String

            enum CodingKeys: String, CodingKey {
                case id, name, type, description, quota, owner_id, mount_point, is_active, created_at
            }

            // Every field, null included, as Vaulthalla writes it.
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(id, forKey: .id)
                try c.encode(name, forKey: .name)
                try c.encode(type, forKey: .type)
                try c.encode(description, forKey: .description)
                try c.encode(quota, forKey: .quota)
                try c.encode(owner_id, forKey: .owner_id)
                try c.encode(mount_point, forKey: .mount_point)
                try c.encode(is_active, forKey: .is_active)
                try c.encode(created_at, forKey: .created_at)
            }
        }
        let out = rows.map { Row(id: $0.id, name: $0.name, type: $0.type, description: $0.description, quota: $0.quota,
                                 owner_id: $0.ownerID, mount_point: $0.mountPoint, is_active: $0.isActive, created_at: $0.createdAt) }
        return Reply(stdout: try JSONFormat.encoder(pretty: true).encode(out) + Data("\n".utf8))
    }

    private func findVault(_ state: LabState, _ which: String) throws -> [VaulthallaDatabase.Vault] {
        let all = try database(state).vaults()
        if which == "all" { return all }
        guard let vault = all.first(where: { String($0.id) == which || $0.name == which }) else {
            throw OperatorError.failed("no vault '\(which)'")
        }
        return [vault]
    }

    private func syncInfo(_ state: LabState, vault name: String) throws -> Reply {
        guard let vault = try findVault(state, name).first else { throw OperatorError.failed("no vault '\(name)'") }
        let db = try database(state).connection
        let row = try db.query("""
            SELECT s.interval::text AS interval, s.enabled, to_char(s.last_sync_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last,
                   r.strategy, coalesce(r.conflict_policy, f.conflict_policy) AS conflict
            FROM sync s LEFT JOIN rsync r ON r.sync_id = s.id LEFT JOIN fsync f ON f.sync_id = s.id WHERE s.vault_id = $1
            """, [String(vault.id)])
        var lines = ["\(vault.type == "s3" ? "Remote" : "Local") Vault Sync Configuration:", "  Vault: \(vault.name)",
                     "  Vault ID: \(vault.id)"]
        if row.count > 0 {
            lines += ["  Interval: \(row[0, "interval"] ?? "")", "  Enabled: \(row[0, "enabled"] == "t")",
                      "  Conflict Policy: \(row[0, "conflict"] ?? "")", "  Last Sync: \(row[0, "last"] ?? "never")"]
            if let strategy = row[0, "strategy"] { lines.append("  Strategy: \(strategy)") }
        }
        if let bucket = vault.bucket {
            lines += ["  Bucket: \(bucket)", "  Encrypt Upstream: \(vault.encryptUpstream ?? true)"]
        }
        return Reply(stdout: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// The current key of each chosen vault, as `vh vault keys export` writes it.
    private func keyExport(_ state: LabState, which: String) throws -> (entries: Data, pretty: Data) {
        let chosen = try findVault(state, which)
        let db = try database(state)
        let wrapped = try db.wrappedKeys().filter(\.current)
        let now = UTCTime.string(Date()).prefix(19) + "Z"
        var exports: [VaultKeyExport] = []
        for vault in chosen {
            guard let key = wrapped.first(where: { $0.vaultID == vault.id }) else {
                throw OperatorError.failed("vault \(vault.name) has no key")
            }
            let raw = try BodyCipher.open(key.encryptedKey, key: state.vaultMasterKey, nonce: key.iv)
            let info = VaultKeyExport.KeyInfo(keyVersion: key.version, createdAt: key.createdAt ?? String(now), exportedAt: String(now),
                                              exportedBy: "admin", sealedBy: "Vaulthalla v\(state.vaulthallaVersion)")
            exports.append(VaultKeyExport(key: raw.base64EncodedString(), keyInfo: info, vaultID: vault.id, vaultName: vault.name,
                                          deletedVault: vault.deleted ? true : nil))
            _ = try db.connection.query("UPDATE vault_keys SET exported_at = now(), exported_version = version WHERE vault_id = $1",
                                        [String(vault.id)])
        }
        let single = which != "all"
        return (try VaultKeyExport.render(exports, single: single, pretty: false),
                try VaultKeyExport.render(exports, single: single, pretty: true))
    }

    private func secretExport(_ state: LabState, which: String) throws -> (entries: Data, pretty: Data) {
        guard which == "all" || SecretExport.names.contains(which) else {
            throw OperatorError.badInput("unknown secret '\(which)'", remedy: "use db-password, jwt-secret or all")
        }
        let row = try database(state).connection.query("SELECT value, iv FROM internal_secrets WHERE key = 'jwt_secret'")
        guard row.count == 1, let value = row.bytea(0, "value"), let iv = row.bytea(0, "iv") else {
            throw OperatorError.failed("internal_secrets has no jwt_secret")
        }
        let jwt = String(decoding: try BodyCipher.open(value, key: state.masterKey, nonce: iv), as: UTF8.self)
        let all = [SecretExport(name: "db-password", secret: state.secrets.dbPassword), SecretExport(name: "jwt-secret", secret: jwt)]
        let chosen = all.filter { which == "all" || $0.name == which }
        return (try SecretExport.render(chosen, pretty: false), try SecretExport.render(chosen, pretty: true))
    }

    /// Standard output with a warning, a 0600 file, or an ASCII-armored file encrypted by a gpg subprocess.
    private func deliver(_ export: (entries: Data, pretty: Data), compactWhenEncrypted: Bool, flags: Flags) throws -> Reply {
        guard let output = flags.output else {
            return Reply(stdout: export.pretty + Data("\n".utf8),
                         stderr: "WARNING: secret material written to standard output; use --output and --recipient\n")
        }
        var data = export.pretty
        if let recipient = flags.recipient {
            let gpg = try Subprocess.run("gpg", ["--batch", "--yes", "--armor", "--trust-model", "always", "--encrypt",
                                                 "--recipient", recipient, "--output", "-"], input: export.entries)
            guard gpg.status == 0 else {
                throw OperatorError.failed("gpg could not encrypt to \(recipient): \(gpg.stderrSummary)")
            }
            data = gpg.stdout
        }
        try Self.writePrivate(output, data)
        return Reply(stdout: Data("Exported to \(output)\n".utf8))
    }

    /// Creates `path` 0600, refusing a symlink where the file should be.
    static func writePrivate(_ path: String, _ data: Data) throws {
        if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType, type == .typeSymbolicLink {
            throw OperatorError.failed("refusing to write through symlink \(path)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OperatorError.failed("cannot create \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard fchmod(fd, 0o600) == 0 else { throw OperatorError.failed("cannot set mode 0600 on \(path)") }
        try handle.write(contentsOf: data)
        try handle.close()
    }
}
