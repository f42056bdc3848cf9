import CLibPQ
import Foundation
import Support

/// One libpq connection (blocking, not shared between threads), closed when the object goes away.
public final class PGConnection {
    private let conn: OpaquePointer
    /// Cursors declared so far; each gets a name of its own.
    private var cursors = 0

    /// Connects with a libpq connection string: `key=value` pairs or a `postgresql://` URI. Unset settings come
    /// from libpq's defaults and `PG*` environment variables, as for `psql`.
    public init(conninfo: String) throws {
        try Self.checkSyntax(conninfo)
        guard let conn = PQconnectdb(conninfo) else {
            throw OperatorError.failed("cannot connect to PostgreSQL: libpq could not allocate a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let target = Self.describe(conn)
            let reason = Self.oneLine(PQerrorMessage(conn))
            PQfinish(conn)
            throw OperatorError.failed("cannot connect to PostgreSQL at \(target): \(reason)",
                                       remedy: "check that the server is running and the connection settings (host, port, dbname, user) are right")
        }
        // Every String built from a result is UTF-8, whatever the database's encoding.
        guard PQsetClientEncoding(conn, "UTF8") == 0 else {
            let reason = Self.oneLine(PQerrorMessage(conn))
            let target = Self.describe(conn)
            PQfinish(conn)
            throw OperatorError.failed("PostgreSQL at \(target) refused client encoding UTF8: \(reason)")
        }
        // Notices ("table does not exist, skipping") would otherwise go to our stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        self.conn = conn
    }

    deinit { PQfinish(conn) }

    /// The server's version as libpq reports it, e.g. 150020 for 15.20.
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// Runs one statement with text-format parameters `$1, $2, ...` (nil is SQL NULL); values never touch the SQL.
    @discardableResult
    public func query(_ sql: String, _ params: [String?] = []) throws -> PGResult {
        if let bad = params.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw OperatorError.badInput("PostgreSQL parameter $\(bad + 1) contains a NUL character, which text values cannot hold")
        }
        let copies = params.map { $0.map { strdup($0)! } }
        defer { copies.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = values.withUnsafeBufferPointer {
            PQexecParams(conn, sql, Int32(params.count), nil, $0.baseAddress, nil, nil, 0)
        }
        return try collect(result)
    }

    /// Runs a SELECT through a server-side cursor and hands its rows to `visit` in order, at most `batch` at a time,
    /// so a result of a million rows is never in memory whole (libpq otherwise holds all of it until the last row
    /// arrives). A cursor lives in a transaction: the caller's, which must be open. The cursor is closed before
    /// this returns, also when `visit` throws (its error is rethrown).
    public func forEachBatch(_ sql: String, _ params: [String?] = [], batch: Int = 10_000,
                             _ visit: (PGResult) throws -> Void) throws {
        precondition(batch > 0, "a cursor fetches at least one row at a time")
        guard PQtransactionStatus(conn) == PQTRANS_INTRANS else {
            throw OperatorError.failed("PostgreSQL at \(Self.describe(conn)): a cursor needs an open transaction, and none is open",
                                       remedy: "run the query after BEGIN, inside the transaction that should see its rows")
        }
        cursors += 1
        let name = "valkyrie_cursor_\(cursors)"
        try query("DECLARE \(name) NO SCROLL CURSOR FOR \(sql)", params)
        do {
            while true {
                let rows = try query("FETCH FORWARD \(batch) FROM \(name)")
                if rows.count > 0 { try visit(rows) }
                if rows.count < batch { break }
            }
        } catch {
            // After a server error the transaction is aborted and the cursor gone with it.
            if PQtransactionStatus(conn) == PQTRANS_INTRANS { try? execute("CLOSE \(name)") }
            throw error
        }
        try execute("CLOSE \(name)")
    }

    /// Runs a script of one or more statements separated by `;` (no parameters). Without an explicit
    /// BEGIN/COMMIT the server runs the whole script as one transaction.
    public func execute(_ sql: String) throws {
        _ = try collect(PQexec(conn, sql))
    }

    /// `name` quoted as an SQL identifier, for the places parameters cannot go (CREATE DATABASE, table names).
    public func quoteIdentifier(_ name: String) throws -> String {
        guard let quoted = PQescapeIdentifier(conn, name, name.utf8.count) else {
            throw OperatorError.badInput("cannot quote \(name) as an SQL identifier: \(Self.oneLine(PQerrorMessage(conn)))")
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// Turns a libpq result into a `PGResult`, or the server's error into an OperatorError; frees it either way.
    private func collect(_ result: OpaquePointer?) throws -> PGResult {
        guard let result else {
            throw OperatorError.failed("PostgreSQL at \(Self.describe(conn)): \(Self.oneLine(PQerrorMessage(conn)))",
                                       remedy: "check that the server is still running")
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGResult(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy()
            throw OperatorError.failed("PostgreSQL at \(Self.describe(conn)): COPY is not supported through this connection",
                                       remedy: "use pg_dump/pg_restore or INSERT statements")
        default:
            throw serverError(result)
        }
    }

    private func serverError(_ result: OpaquePointer) -> OperatorError {
        let field = { (code: UInt8) -> String? in
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let message = field(UInt8(ascii: "M")) ?? Self.oneLine(PQresultErrorMessage(result))
        let state = field(UInt8(ascii: "C")).map { " (SQLSTATE \($0))" } ?? ""
        let lost = PQstatus(conn) != CONNECTION_OK
        return OperatorError.failed("PostgreSQL at \(Self.describe(conn)): \(message)\(state)",
                                    remedy: lost ? "check that the server is still running" : nil)
    }

    /// Ends a COPY the caller did not ask for, so the connection stays usable.
    private func abandonCopy() {
        _ = PQputCopyEnd(conn, "COPY is not supported")
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(conn, &buffer, 0) >= 0 { PQfreemem(buffer) }
        while let extra = PQgetResult(conn) { PQclear(extra) }
    }

    /// Refuses a malformed connection string before connecting. libpq's own message quotes the fragment it
    /// choked on, so it is only passed on when the string holds no password.
    private static func checkSyntax(_ conninfo: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(conninfo, &error) {
            PQconninfoFree(options)
            return
        }
        let detail = error.map { oneLine($0) } ?? "out of memory"
        PQfreemem(error)
        let mayHoldPassword = conninfo.lowercased().contains("password") || conninfo.contains("@")
        throw OperatorError.badInput(
            "the PostgreSQL connection string is not valid" + (mayHoldPassword ? "" : ": \(detail)"),
            remedy: "write it as key=value pairs (host=... port=... dbname=... user=...) or a postgresql:// URI")
    }

    /// `host=... port=... dbname=...` of a connection, as libpq resolved them (never the password).
    private static func describe(_ conn: OpaquePointer) -> String {
        let text = { (value: UnsafeMutablePointer<CChar>?) in value.map { String(cString: $0) } ?? "" }
        return "host=\(text(PQhost(conn))) port=\(text(PQport(conn))) dbname=\(text(PQdb(conn)))"
    }

    /// libpq messages span lines (with a tab-indented hint); operator errors are one line.
    private static func oneLine(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        return String(cString: message)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}
