import Foundation
import Support

/// Reads a table's rows straight out of the set's dump (`pg_restore --data-only --table=T -f -`), independently
/// of the restored database: what the record checks compare the restored rows against.
struct DumpReader: Sendable {
    let dump: String
    let pgRestore: String

    struct Table: Sendable {
        var columns: [String]
        var rows: [[String?]]
    }

    /// The table's rows as COPY text values (nil for NULL), or nil when the dump has no data for it.
    func table(_ name: String) throws -> Table? {
        let result = try Subprocess.run(pgRestore, ["--data-only", "--table=\(name)", "--file=-", dump])
        guard result.status == 0 else {
            throw OperatorError.failed("pg_restore could not read table \(name) from \(dump): \(result.stderrSummary)")
        }
        return Self.parse(result.stdoutText, table: name)
    }

    /// Finds `COPY public.<table> (a, b) FROM stdin;` and the tab-separated lines up to `\.`.
    static func parse(_ text: String, table: String) -> Table? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.first, !(line.hasPrefix("COPY public.\(table) (") || line.hasPrefix("COPY public.\"\(table)\" (")) {
            lines = lines.dropFirst()
        }
        guard let header = lines.first, let open = header.firstIndex(of: "("), let close = header.lastIndex(of: ")") else { return nil }
        let columns = header[header.index(after: open)..<close].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        var rows: [[String?]] = []
        for line in lines.dropFirst() {
            if line == "\\." { break }
            rows.append(line.split(separator: "\t", omittingEmptySubsequences: false).map { unescape($0) })
        }
        return Table(columns: columns, rows: rows)
    }

    /// COPY text format: `\N` is NULL; backslash escapes for control characters and the backslash.
    static func unescape(_ field: Substring) -> String? {
        if field == "\\N" { return nil }
        guard field.contains("\\") else { return String(field) }
        var out = "", escaped = false
        for char in field {
            if escaped {
                switch char {
                case "t": out.append("\t")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                default: out.append(char)
                }
                escaped = false
            } else if char == "\\" {
                escaped = true
            } else {
                out.append(char)
            }
        }
        return out
    }
}
