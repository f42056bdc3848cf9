import Foundation
import LibPQ
import Support
import Vaulthalla

/// One point in time of the Vaulthalla database: a REPEATABLE READ transaction that exported its snapshot and
/// stays open until `close()`, so `pg_dump --snapshot` and every query here see the same rows.
public final class DatabaseSnapshot: @unchecked Sendable {
    public let settings: CaptureSettings.DatabaseSettings
    let connection: PGConnection
    /// The id `pg_export_snapshot()` returned.
    public let snapshotID: String
    public let serverVersion: Int

    public init(_ settings: CaptureSettings.DatabaseSettings) throws {
        self.settings = settings
        connection = try PGConnection(conninfo: settings.conninfo)
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        guard let id = try connection.query("SELECT pg_export_snapshot() AS id")[0, "id"] else {
            throw OperatorError.failed("PostgreSQL did not export a snapshot", remedy: "check the server's log")
        }
        snapshotID = id
        serverVersion = connection.serverVersion
    }

    /// Ends the transaction (the snapshot is gone after this).
    public func close() {
        try? connection.execute("ROLLBACK")
    }

    var database: VaulthallaDatabase { VaulthallaDatabase(connection: connection) }

    public func vaults() throws -> [VaulthallaDatabase.Vault] { try database.vaults() }

    /// Every vault's current key version (`vault_keys`).
    public func currentKeyVersions() throws -> [Int: Int] {
        var versions: [Int: Int] = [:]
        for key in try database.wrappedKeys() where key.current { versions[key.vaultID] = key.version }
        return versions
    }

    /// Record counts the version record and the drill compare: users, groups, roles, shares, cost control.
    public func recordCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (name, tables) in Self.countedTables {
            var total = 0
            for table in tables where try tableExists(table) { total += try database.count(table) }
            counts[name] = total
        }
        return counts
    }

    /// The migration pins (`schema_migrations`), by file name; empty where the table is missing.
    public func schemaMigrations() throws -> [VersionRecord.Migration] {
        guard try tableExists("schema_migrations") else { return [] }
        let rows = try connection.query("SELECT filename, sha256 FROM schema_migrations ORDER BY filename")
        return (0..<rows.count).map { VersionRecord.Migration(filename: rows[$0, "filename"] ?? "", sha256: rows[$0, "sha256"] ?? "") }
    }

    public static let countedTables: [(String, [String])] = [
        ("users", ["users"]), ("groups", ["groups"]),
        ("roles", ["vault_role", "admin_role"]),
        ("shares", ["share_link"]),
        ("cost_control_policies", ["s3_price_budget_policy"]),
    ]

    private func tableExists(_ table: String) throws -> Bool {
        try connection.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1",
                             [table]).count > 0
    }

    /// Every file of `vault` with its backing path, plus `files.encryption_format` where the schema has it, in
    /// order, handed to `visit` at most `batch` lines at a time: fetched through a cursor inside the snapshot, so a
    /// vault of a million files is never in memory whole (neither in libpq nor here).
    public func vaultIndex(vault: VaulthallaDatabase.Vault, batch: Int = DatabaseSnapshot.batch,
                           _ visit: ([VaultIndexLine]) throws -> Void) throws {
        var formats: [Int64: Int] = [:]
        if try database.hasColumn(table: "files", column: "encryption_format") {
            try connection.forEachBatch("""
                SELECT f.fs_entry_id, f.encryption_format FROM files f JOIN fs_entry e ON e.id = f.fs_entry_id
                WHERE e.vault_id = $1 AND f.encryption_format IS NOT NULL
                """, [String(vault.id)], batch: batch) { rows in
                for row in 0..<rows.count {
                    if let id = rows[row, "fs_entry_id"].flatMap({ Int64($0) }), let format = rows[row, "encryption_format"].flatMap({ Int($0) }) {
                        formats[id] = format
                    }
                }
            }
        }
        try database.files(vaultID: vault.id, batch: batch) { files in
            try visit(files.map { file in
                VaultIndexLine(vault: vault.name, vaultID: vault.id, vaultType: vault.type, path: file.logicalPath,
                               backingPath: file.backingPath, size: file.sizeBytes, iv: file.encryptionIV,
                               keyVersion: file.keyVersion, contentHash: file.contentHash, format: formats[file.fsEntryID])
            })
        }
    }

    /// Rows per fetch of the vault index: a few MB of lines at a time.
    public static let batch = 5_000

    /// Starts `pg_dump -Fc -Z0` of the database inside this snapshot; the caller reads its standard output.
    func startDump() throws -> RunningProcess {
        let fields = Conninfo.parse(settings.conninfo)
        var arguments = ["--format=custom", "--compress=0", "--snapshot=\(snapshotID)", "--no-password"]
        var environment = ProcessInfo.processInfo.environment
        // Everything but the password goes as a connection string; the password only through the environment.
        var dsn = fields.filter { $0.key != "password" }
        if dsn["dbname"] == nil { dsn["dbname"] = Defaults.databaseName }
        if let password = fields["password"] { environment["PGPASSWORD"] = password }
        arguments += ["--dbname", Conninfo.render(dsn)]
        return try Subprocess.start(tool("pg_dump"), arguments, environment: environment)
    }

    func tool(_ name: String) -> String {
        settings.binDirectory.map { "\($0)/\(name)" } ?? name
    }
}

/// One line of `valkyrie/vault-index.jsonl`: a vault file as the database described it in the snapshot.
public struct VaultIndexLine: Codable, Sendable, Equatable {
    public var vault: String
    public var vaultID: Int
    public var vaultType: String
    /// Logical path, leading `/`.
    public var path: String
    /// Alias path relative to the data directory.
    public var backingPath: String
    /// Plaintext size (`files.size_bytes`).
    public var size: Int64
    public var iv: String?
    public var keyVersion: Int?
    public var contentHash: String?
    public var format: Int?
    /// Set by the coherence check: the body's BLAKE2b matched `contentHash` (in this set, or in the previous one
    /// for the same content).
    public var hashVerified: Bool?

    /// Encrypted bodies are 16 bytes (the GCM tag) longer than the plaintext.
    public var expectedBodySize: Int64 {
        (iv ?? "").isEmpty ? size : size + Int64(BodyCipher.tagSize)
    }
}

/// libpq key=value connection strings: parsed for the fields Valkyrie needs, rendered back with quoting.
public enum Conninfo {
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        var chars = Array(text)[...]
        func skipSpaces() { while chars.first?.isWhitespace == true { chars.removeFirst() } }
        while true {
            skipSpaces()
            guard !chars.isEmpty else { break }
            var key = ""
            while let c = chars.first, c != "=", !c.isWhitespace { key.append(c); chars.removeFirst() }
            skipSpaces()
            guard chars.first == "=" else { break }
            chars.removeFirst()
            skipSpaces()
            var value = ""
            if chars.first == "'" {
                chars.removeFirst()
                while let c = chars.popFirst(), c != "'" {
                    if c == "\\", let next = chars.popFirst() { value.append(next) } else { value.append(c) }
                }
            } else {
                while let c = chars.first, !c.isWhitespace { value.append(c); chars.removeFirst() }
            }
            fields[key] = value
        }
        return fields
    }

    public static func render(_ fields: [String: String]) -> String {
        fields.sorted { $0.key < $1.key }.map { key, value in
            "\(key)='" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }.joined(separator: " ")
    }

    /// Host, port and database, for messages (never the password).
    public static func describe(_ text: String) -> String {
        let fields = parse(text)
        return "\(fields["host"] ?? "localhost"):\(fields["port"] ?? "5432")/\(fields["dbname"] ?? Defaults.databaseName)"
    }
}
