import Foundation
import LibPQ
import Support
import Testing
@testable import Vaulthalla

/// Path resolution and key unwrapping against a real PostgreSQL (scripts/services), on a hand-made schema
/// with Vaulthalla's table and column names.
@Suite struct DatabaseTests {
    static func cluster() throws -> (host: String, port: String, user: String) {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["VALKYRIE_TEST_PGHOST"], let port = env["VALKYRIE_TEST_PGPORT"] else {
            throw OperatorError.failed("VALKYRIE_TEST_PGHOST / VALKYRIE_TEST_PGPORT are not set",
                                       remedy: "run `scripts/services start DIR` and source DIR/env (scripts/test does)")
        }
        return (host, port, env["VALKYRIE_TEST_PGUSER"] ?? "postgres")
    }

    /// Runs `body` on a fresh database, dropped afterwards whatever happens.
    func withDatabase(_ body: (VaulthallaDatabase) throws -> Void) throws {
        let (host, port, user) = try Self.cluster()
        let name = "vhtest_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        let admin = try PGConnection(conninfo: "host=\(host) port=\(port) user=\(user) dbname=postgres")
        try admin.execute("CREATE DATABASE \(name)")
        defer { try? admin.execute("DROP DATABASE \(name) WITH (FORCE)") }
        let db = try VaulthallaDatabase(conninfo: "host=\(host) port=\(port) user=\(user) dbname=\(name)")
        try db.connection.execute(Self.schema)
        try body(db)
    }

    static let schema = """
        CREATE TABLE vault (id int PRIMARY KEY, type text, name text, description text, quota bigint, owner_id int,
                            mount_point char(33), is_active boolean, created_at timestamptz DEFAULT now(), deleted_at timestamptz);
        CREATE TABLE s3 (vault_id int, api_key_id int, bucket text, encrypt_upstream boolean DEFAULT true);
        CREATE TABLE fs_entry (id bigint PRIMARY KEY, vault_id int, parent_id bigint, name text, base32_alias char(33), path text);
        CREATE TABLE files (fs_entry_id bigint PRIMARY KEY, size_bytes bigint, mime_type text, content_hash text,
                            encryption_iv text, encrypted_with_key_version int);
        CREATE TABLE vault_keys (vault_id int, encrypted_key bytea, iv bytea, version int, created_at timestamptz DEFAULT now());
        CREATE TABLE vault_keys_trashed (vault_id int, version int, encrypted_key bytea, iv bytea, trashed_at timestamptz);
        """

    func alias(_ n: Int) -> String { Alias.make(name: "e\(n)", random: Data(repeating: UInt8(n), count: 16)) }

    @Test func logicalPathResolvesThroughTheParentChain() throws {
        try withDatabase { db in
            let c = db.connection
            let root = alias(1), vroot = alias(2), docs = alias(3), year = alias(4), file = alias(5)
            let gone = alias(6), goneFile = alias(7)
            try c.execute("""
                INSERT INTO vault VALUES (1, 'local', 'finance', NULL, NULL, 1, '\(vroot)', true, now(), NULL),
                                         (2, 's3', 'gone', NULL, NULL, 1, '\(gone)', false, now(), NULL);
                INSERT INTO s3 VALUES (2, 1, 'bucket-2', true);
                INSERT INTO fs_entry VALUES (1, NULL, NULL, '', '\(root)', '/'),
                  (2, 1, 1, 'finance', '\(vroot)', '/'),
                  (3, 1, 2, 'Überweisungen 2026', '\(docs)', '/Überweisungen 2026'),
                  (4, 1, 3, 'q3', '\(year)', '/Überweisungen 2026/q3'),
                  (5, 1, 4, 'it''s q3.xlsx', '\(file)', '/Überweisungen 2026/q3/it''s q3.xlsx'),
                  (6, 2, NULL, 'gone', '\(gone)', '/'),
                  (7, 2, 6, 'a', '\(goneFile)', '/a');
                INSERT INTO files VALUES (5, 1234, 'application/x', 'abcd', 'AAAAAAAAAAAAAAAA', 2), (7, 0, NULL, NULL, '', NULL);
                """)
            let entry = try #require(try db.resolve(vaultID: 1, logicalPath: "/Überweisungen 2026/q3/it's q3.xlsx"))
            #expect(entry.backingPath == "\(vroot)/\(docs)/\(year)/\(file)")
            #expect(entry.sizeBytes == 1234 && entry.keyVersion == 2 && entry.encryptionIV == "AAAAAAAAAAAAAAAA")
            #expect(try db.resolve(vaultID: 1, logicalPath: "/nope") == nil)
            #expect(try db.resolve(vaultID: 2, logicalPath: "/Überweisungen 2026/q3/it's q3.xlsx") == nil)

            #expect(try db.files(vaultID: 1) == [entry])
            // The same through a cursor, inside a transaction.
            try c.execute("BEGIN")
            var batched: [VaulthallaDatabase.FileEntry] = []
            try db.files(vaultID: 1, batch: 1) { batched += $0 }
            try c.execute("ROLLBACK")
            #expect(batched == [entry])
            let goneFiles = try db.files(vaultID: 2)
            #expect(goneFiles.map(\.backingPath) == ["\(gone)/\(goneFile)"])
            #expect(goneFiles.first?.keyVersion == nil)

            let vaults = try db.vaults()
            #expect(vaults.map(\.name) == ["finance", "gone"])
            #expect(vaults[0].deleted == false && vaults[0].bucket == nil)
            #expect(vaults[1].deleted == true && vaults[1].bucket == "bucket-2" && vaults[1].encryptUpstream == true)
            #expect(try db.count("fs_entry") == 7)
            #expect(throws: OperatorError.self) { try db.count("fs_entry; DROP TABLE vault") }

            // A chain that never reaches the vault root is damage, not a file.
            try c.execute("UPDATE fs_entry SET parent_id = NULL WHERE id = 3")
            #expect(throws: OperatorError.self) { try db.resolve(vaultID: 1, logicalPath: "/Überweisungen 2026/q3/it's q3.xlsx") }
        }
    }

    @Test func keyringsUnwrapEveryVersionUnderVaultMaster() throws {
        try withDatabase { db in
            let master = Data(repeating: 9, count: 32)
            func wrap(_ key: Data, _ nonce: UInt8) throws -> (String, String) {
                let iv = Data(repeating: nonce, count: 12)
                return ("\\x" + ContentHash.hexString(try BodyCipher.seal(key, key: master, nonce: iv)), "\\x" + ContentHash.hexString(iv))
            }
            let (k3, iv3) = try wrap(Data(repeating: 3, count: 32), 3)
            let (k2, iv2) = try wrap(Data(repeating: 2, count: 32), 2)
            _ = try db.connection.query("INSERT INTO vault_keys (vault_id, encrypted_key, iv, version) VALUES (1, $1::bytea, $2::bytea, 3)", [k3, iv3])
            _ = try db.connection.query("INSERT INTO vault_keys_trashed VALUES (1, 2, $1::bytea, $2::bytea, now())", [k2, iv2])
            let wrapped = try db.wrappedKeys()
            #expect(wrapped.count == 2 && wrapped.allSatisfy { $0.encryptedKey.count == 48 })
            let ring = try #require(try db.keyrings(vaultMaster: master)[1])
            #expect(ring.currentVersion == 3)
            #expect(ring.keys == [2: Data(repeating: 2, count: 32), 3: Data(repeating: 3, count: 32)])
            let error = #expect(throws: OperatorError.self) { try db.keyrings(vaultMaster: Data(count: 32)) }
            #expect(error?.problem.contains("vault_master") == true)
        }
    }
}
