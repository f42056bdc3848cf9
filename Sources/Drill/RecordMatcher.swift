import Foundation
import LibPQ

/// Compares rows read out of the dump with the restored database, field by field, each side cast to the column's
/// type and back to text in one session (so time zones and number formats cannot differ).
struct RecordMatcher {
    let connection: PGConnection

    func tableExists(_ table: String) throws -> Bool {
        try connection.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1",
                             [table]).count > 0
    }

    func count(_ table: String) throws -> Int {
        Int(try connection.query("SELECT count(*) AS n FROM public.\(try connection.quoteIdentifier(table))")[0, "n"] ?? "") ?? -1
    }

    /// Column types of a restored table.
    func types(_ table: String) throws -> [String: String] {
        let result = try connection.query("""
            SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
            WHERE attrelid = ('public.' || quote_ident($1))::regclass AND attnum > 0 AND NOT attisdropped
            """, [table])
        var types: [String: String] = [:]
        for row in 0..<result.count { types[result[row, "attname"] ?? ""] = result[row, "type"] }
        return types
    }

    /// Columns whose restored value differs from the dump's, for the restored row whose first column equals the
    /// dump row's; nil when no restored row has that key.
    func differences(table: String, columns: [String], row: [String?]) throws -> [String]? {
        let types = try types(table)
        var comparisons: [String] = []
        for (i, column) in columns.enumerated() {
            let name = try connection.quoteIdentifier(column)
            let type = types[column] ?? "text"
            comparisons.append("(\(name)::text IS NOT DISTINCT FROM CAST($\(i + 1)::text AS \(type))::text) AS c\(i)")
        }
        let key = try connection.quoteIdentifier(columns[0])
        let keyType = types[columns[0]] ?? "text"
        let result = try connection.query("""
            SELECT \(comparisons.joined(separator: ", ")) FROM public.\(try connection.quoteIdentifier(table))
            WHERE \(key)::text = CAST($1::text AS \(keyType))::text LIMIT 1
            """, row)
        guard result.count > 0 else { return nil }
        return columns.indices.filter { result[0, "c\($0)"] != "t" }.map { columns[$0] }
    }

    /// Columns whose values are not shown in evidence (credentials, secrets).
    static func isSecret(_ column: String) -> Bool {
        ["hash", "secret", "password", "token", "key", "salt"].contains { column.lowercased().contains($0) }
    }

    /// `column=value` pairs for evidence, secrets left out.
    static func describe(columns: [String], row: [String?]) -> String {
        zip(columns, row).map { column, value in
            isSecret(column) ? "\(column)=(not shown)" : "\(column)=\(value ?? "NULL")"
        }.joined(separator: ", ")
    }
}
