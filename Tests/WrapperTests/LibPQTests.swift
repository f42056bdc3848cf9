import Foundation
import LibPQ
import Support
import Testing

/// Gives the suite its own database on the test PostgreSQL, created before its tests and dropped after.
struct ScratchDatabase: SuiteTrait, TestScoping {
    @TaskLocal static var name: String?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: () async throws -> Void) async throws {
        let name = "valkyrie_libpq_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PGConnection(conninfo: try LibPQTests.conninfo(dbname: "postgres"))
        try admin.execute("CREATE DATABASE \(try admin.quoteIdentifier(name))")
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(admin.quoteIdentifier(name)) WITH (FORCE)") }
        try await Self.$name.withValue(name, operation: function)
    }
}

@Suite(ScratchDatabase()) struct LibPQTests {
    static func conninfo(dbname: String) throws -> String {
        "host=\(try TestServices.env("VALKYRIE_TEST_PGHOST")) port=\(try TestServices.env("VALKYRIE_TEST_PGPORT")) "
            + "user=\(try TestServices.env("VALKYRIE_TEST_PGUSER")) dbname=\(dbname)"
    }

    /// A connection to the suite's scratch database, with a table of this test's own.
    func connect(table: String) throws -> PGConnection {
        let db = try PGConnection(conninfo: try Self.conninfo(dbname: try #require(ScratchDatabase.name)))
        try db.execute("CREATE TABLE \(table) (id int PRIMARY KEY, name text, body bytea)")
        return db
    }

    @Test func serverVersionIsPostgreSQL15() throws {
        let db = try connect(table: "version_check")
        #expect((150000..<160000).contains(db.serverVersion))
        let reported = try db.query("SHOW server_version_num")
        #expect(reported[0, "server_version_num"] == String(db.serverVersion))
    }

    @Test func nullsUnicodeAndColumnNames() throws {
        let db = try connect(table: "people")
        let unicode = "Grüße, 世界 🚀 ﬁ\u{301}"
        try db.query("INSERT INTO people (id, name) VALUES ($1, $2), ($3, $4)", ["1", unicode, "2", nil])
        let result = try db.query("SELECT id, name, body FROM people ORDER BY id")
        #expect(result.columns == ["id", "name", "body"])
        #expect(result.count == 2)
        #expect(result.rows == [["1", unicode, nil], ["2", nil, nil]])
        #expect(result[0, "name"] == unicode)
        #expect(result[1, "name"] == nil)
        // Length counted by the server in characters: the text arrived as UTF-8, not as mangled bytes.
        let length = try db.query("SELECT char_length(name) AS n FROM people WHERE id = 1")
        #expect(length[0, "n"] == String(unicode.unicodeScalars.count))
        let empty = try db.query("SELECT id AS only FROM people WHERE false")
        #expect(empty.columns == ["only"] && empty.count == 0)
    }

    @Test func byteaRoundTrip() throws {
        let db = try connect(table: "blobs")
        let bytes = Data((0...255).map(UInt8.init) + [0, 0, 92, 120])
        let hex = "\\x" + bytes.map { String(format: "%02x", $0) }.joined()
        try db.query("INSERT INTO blobs (id, body) VALUES (1, $1::bytea), (2, NULL), (3, ''::bytea)", [hex])
        let result = try db.query("SELECT id, body FROM blobs ORDER BY id")
        #expect(result[0, "body"] == hex) // PostgreSQL's hex text form
        #expect(result.bytea(0, "body") == bytes)
        #expect(result.bytea(1, "body") == nil)
        #expect(result.bytea(2, "body") == Data())
        // A server configured for the older escape output decodes to the same bytes.
        try db.execute("SET bytea_output = 'escape'")
        let escaped = try db.query("SELECT body FROM blobs WHERE id = 1")
        #expect(escaped[0, "body"]?.hasPrefix("\\x") == false)
        #expect(escaped.bytea(0, "body") == bytes)
        // The server stored the bytes, not the hex text.
        #expect(try db.query("SELECT length(body) AS n FROM blobs WHERE id = 1")[0, "n"] == String(bytes.count))
    }

    @Test func parametersAreNeverSQL() throws {
        let db = try connect(table: "students")
        let hostile = "Robert'); DROP TABLE students;-- \"quoted\" \\ $1 $$dollar$$"
        try db.query("INSERT INTO students (id, name) VALUES ($1, $2)", ["1", hostile])
        let result = try db.query("SELECT name FROM students WHERE name = $1", [hostile])
        #expect(result.rows == [[hostile]])
        #expect(try db.query("SELECT count(*) AS n FROM students")[0, "n"] == "1")
        let error = #expect(throws: OperatorError.self) {
            try db.query("INSERT INTO students (id, name) VALUES ($1, $2)", ["2", "nul\0byte"])
        }
        #expect(error?.status == .usage && error?.problem.contains("$2") == true)
    }

    @Test func quotedIdentifiers() throws {
        let db = try connect(table: "identifiers")
        let name = "odd \"name\"; DROP TABLE identifiers"
        let quoted = try db.quoteIdentifier(name)
        #expect(quoted == "\"odd \"\"name\"\"; DROP TABLE identifiers\"")
        try db.execute("CREATE TABLE \(quoted) (x int)")
        let found = try db.query("SELECT count(*) AS n FROM pg_tables WHERE tablename IN ($1, 'identifiers')", [name])
        #expect(found[0, "n"] == "2")
    }

    @Test func sqlErrorCarriesTheServerMessage() throws {
        let db = try connect(table: "errors")
        let error = #expect(throws: OperatorError.self) { try db.query("SELECT * FROM no_such_table") }
        #expect(error?.status == .failed)
        #expect(error?.problem.contains("relation \"no_such_table\" does not exist") == true)
        #expect(error?.problem.contains("SQLSTATE 42P01") == true)
        #expect(error?.problem.contains("dbname=\(try #require(ScratchDatabase.name))") == true)
        let duplicate = #expect(throws: OperatorError.self) {
            try db.query("INSERT INTO errors (id) VALUES (1), (1)")
        }
        #expect(duplicate?.problem.contains("duplicate key value violates unique constraint") == true)
        let wrongCount = #expect(throws: OperatorError.self) { try db.query("SELECT $1::int + $2::int", ["1"]) }
        #expect(wrongCount?.problem.contains("bind message supplies 1 parameters") == true)
        // The connection is still usable after errors.
        #expect(try db.query("SELECT 1 AS one")[0, "one"] == "1")
    }

    @Test func scriptsAndTransactions() throws {
        let db = try connect(table: "ledger")
        try db.execute("""
            INSERT INTO ledger (id, name) VALUES (1, 'a');
            INSERT INTO ledger (id, name) VALUES (2, 'b; still a string');
            """)
        #expect(try db.query("SELECT name FROM ledger ORDER BY id").rows == [["a"], ["b; still a string"]])
        // A failing script is one transaction: nothing of it stays.
        #expect(throws: OperatorError.self) {
            try db.execute("INSERT INTO ledger (id) VALUES (3); INSERT INTO ledger (id) VALUES (1);")
        }
        try db.execute("BEGIN; INSERT INTO ledger (id) VALUES (4);")
        try db.query("INSERT INTO ledger (id) VALUES ($1)", ["5"])
        try db.execute("ROLLBACK")
        #expect(try db.query("SELECT id FROM ledger ORDER BY id").rows == [["1"], ["2"]])
        try db.execute("BEGIN; INSERT INTO ledger (id) VALUES (6); COMMIT;")
        #expect(try db.query("SELECT count(*) AS n FROM ledger")[0, "n"] == "3")
        try db.execute("") // an empty script is no error
    }

    @Test("a cursor hands over every row in order, a batch at a time, whatever the batch size")
    func cursorBatches() throws {
        let db = try connect(table: "many")
        try db.query("INSERT INTO many (id, name) SELECT n, CASE WHEN n % 5 = 0 THEN NULL ELSE 'row ' || n END FROM generate_series(1, 23) n")
        let sql = "SELECT id, name FROM many WHERE id <= $1 ORDER BY id"
        let whole = try db.query(sql, ["21"])
        try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        // Batches smaller than, equal to, dividing and larger than the 21 rows; each batch is a full result.
        for size in [1, 2, 7, 20, 21, 22, 1000] {
            var rows: [[String?]] = [], sizes: [Int] = []
            try db.forEachBatch(sql, ["21"], batch: size) { batch in
                #expect(batch.columns == ["id", "name"])
                rows += batch.rows
                sizes.append(batch.count)
            }
            #expect(rows == whole.rows, "batch \(size)")
            #expect(sizes.allSatisfy { $0 <= size } && sizes.dropLast().allSatisfy { $0 == size }, "batch \(size): \(sizes)")
        }
        // No rows: no batch.
        var called = false
        try db.forEachBatch(sql, ["0"], batch: 5) { _ in called = true }
        #expect(!called)
        // The cursor reads the transaction's snapshot, not rows committed after it began.
        let other = try PGConnection(conninfo: try Self.conninfo(dbname: try #require(ScratchDatabase.name)))
        try other.query("DELETE FROM many WHERE id = 3")
        var seen = 0
        try db.forEachBatch(sql, ["21"], batch: 4) { seen += $0.count }
        #expect(seen == 21)
        try db.execute("ROLLBACK")
    }

    @Test("a cursor needs a transaction, is closed when its reader throws, and passes server errors on")
    func cursorFailures() throws {
        let db = try connect(table: "cursed")
        try db.query("INSERT INTO cursed (id) SELECT generate_series(1, 10)")
        let outside = #expect(throws: OperatorError.self) { try db.forEachBatch("SELECT id FROM cursed", batch: 3) { _ in } }
        #expect(outside?.problem.contains("needs an open transaction") == true)

        try db.execute("BEGIN")
        struct Stop: Error {}
        var batches = 0
        #expect(throws: Stop.self) {
            try db.forEachBatch("SELECT id FROM cursed ORDER BY id", batch: 3) { _ in
                batches += 1
                if batches == 2 { throw Stop() }
            }
        }
        #expect(batches == 2)
        // The cursor was closed and the transaction is still usable.
        #expect(try db.query("SELECT count(*) AS n FROM pg_cursors WHERE name LIKE 'valkyrie_cursor_%'")[0, "n"] == "0")
        var ids: [String?] = []
        try db.forEachBatch("SELECT id FROM cursed ORDER BY id", batch: 4) { ids += $0.rows.map { $0[0] } }
        #expect(ids == (1...10).map { String($0) })

        // A server error surfaces as the query's error; the aborted transaction is the caller's to end.
        let failed = #expect(throws: OperatorError.self) {
            try db.forEachBatch("SELECT 1 / (id - 5) AS x FROM cursed ORDER BY id", batch: 2) { _ in }
        }
        #expect(failed?.problem.contains("division by zero") == true)
        try db.execute("ROLLBACK")
        #expect(try db.query("SELECT 3 AS three")[0, "three"] == "3")
    }

    @Test func copyIsRefusedAndTheConnectionSurvives() throws {
        let db = try connect(table: "copies")
        #expect(throws: OperatorError.self) { try db.execute("COPY copies FROM STDIN") }
        #expect(throws: OperatorError.self) { try db.query("COPY (SELECT 1) TO STDOUT") }
        #expect(try db.query("SELECT 2 AS two")[0, "two"] == "2")
    }

    @Test func wrongPortNamesTheTargetButNotThePassword() throws {
        let host = try TestServices.env("VALKYRIE_TEST_PGHOST")
        let port = Int(try TestServices.env("VALKYRIE_TEST_PGPORT"))! + 7
        let error = #expect(throws: OperatorError.self) {
            try PGConnection(conninfo: "host=\(host) port=\(port) dbname=postgres user=postgres password=hunter2-secret")
        }
        let text = try #require(error?.description)
        #expect(text.contains("host=\(host)") && text.contains("port=\(port)") && text.contains("dbname=postgres"))
        #expect(text.contains("No such file or directory"))
        #expect(!text.contains("hunter2") && !text.contains("\n"))
        #expect(error?.status == .failed)
    }

    @Test func missingSocketDirectoryAndMissingDatabase() throws {
        let port = try TestServices.env("VALKYRIE_TEST_PGPORT")
        let noSocket = #expect(throws: OperatorError.self) {
            try PGConnection(conninfo: "postgresql://postgres@%2Fnonexistent-valkyrie:\(port)/postgres")
        }
        #expect(noSocket?.problem.contains("host=/nonexistent-valkyrie port=\(port) dbname=postgres") == true)
        let noDatabase = #expect(throws: OperatorError.self) {
            try PGConnection(conninfo: try Self.conninfo(dbname: "valkyrie_no_such_db"))
        }
        #expect(noDatabase?.problem.contains("database \"valkyrie_no_such_db\" does not exist") == true)
    }

    @Test func malformedConnectionStringIsBadInputWithoutSecrets() throws {
        let unknown = #expect(throws: OperatorError.self) { try PGConnection(conninfo: "hots=localhost") }
        #expect(unknown?.status == .usage && unknown?.problem.contains("invalid connection option \"hots\"") == true)
        let withPassword = #expect(throws: OperatorError.self) {
            try PGConnection(conninfo: "host=localhost password=s3cr3t pw9")
        }
        #expect(withPassword?.status == .usage)
        #expect(withPassword.map { !$0.description.contains("s3cr3t") && !$0.description.contains("pw9") } == true)
    }
}
