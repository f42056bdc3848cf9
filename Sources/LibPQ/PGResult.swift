import CLibPQ
import Foundation

/// The rows of one statement, copied out of libpq as text (SQL NULL is nil).
public struct PGResult: Sendable, Equatable {
    public let columns: [String]
    public let rows: [[String?]]

    public var count: Int { rows.count }

    init(_ result: OpaquePointer) {
        let width = Int(PQnfields(result)), height = Int(PQntuples(result))
        columns = (0..<width).map { String(cString: PQfname(result, Int32($0))) }
        rows = (0..<height).map { row in
            (0..<width).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
    }

    /// The value of `column` (its name, the first if several share it) in row `row`; nil for SQL NULL.
    /// Asking for a column the statement does not return is a programming error.
    public subscript(row: Int, column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else {
            preconditionFailure("the result has no column \(column); it has \(columns)")
        }
        return rows[row][index]
    }

    /// A bytea value decoded from PostgreSQL's text form (hex `\x...`, or the older escape form); nil for NULL.
    public func bytea(_ row: Int, _ column: String) -> Data? {
        guard let text = self[row, column] else { return nil }
        var length = 0
        guard let bytes = PQunescapeBytea(text, &length) else {
            preconditionFailure("libpq could not allocate \(text.utf8.count / 2) bytes for a bytea value")
        }
        defer { PQfreemem(bytes) }
        return Data(bytes: bytes, count: length)
    }
}
