import Foundation
import Support

/// A plain text table for human output: a header row, aligned columns, two spaces between them.
struct Table {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ cells: String...) { rows.append(cells) }

    /// Cells padded with spaces to their column's width in characters (appended directly: Foundation's
    /// `padding(toLength:)` per cell was a quarter of listing ten thousand sets).
    var rendered: String {
        let all = [header] + rows
        let counts = all.map { $0.map(\.count) }
        let widths = header.indices.map { column in counts.map { $0.indices.contains(column) ? $0[column] : 0 }.max() ?? 0 }
        var out = ""
        for (number, row) in all.enumerated() {
            if number > 0 { out += "\n" }
            for (index, cell) in row.enumerated() {
                if index > 0 { out += "  " }
                out += cell
                if index < row.count - 1, counts[number][index] < widths[index] {
                    out += String(repeating: " ", count: widths[index] - counts[number][index])
                }
            }
        }
        return out
    }
}

enum HumanFormat {
    /// `2026-11-29 00:11:07Z`
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return UTCTime.readable(date)
    }

    /// `1.5 GiB`
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        guard count >= 1024 else { return "\(count) B" }
        // What `%.1f` prints, in integers (`String(format:)` per row was an eighth of listing ten thousand sets):
        // round count * 10 / 1024^unit to the nearest tenth, ties to even (the product taken at full width).
        var unit = 0, divisor: Int64 = 1
        while count / 1024 >= divisor, unit < units.count - 1 { divisor *= 1024; unit += 1 }
        let (quotient, remainder) = divisor.dividingFullWidth(Int64(10).multipliedFullWidth(by: count))
        var tenths = quotient
        let twice = remainder * 2
        if twice > divisor || (twice == divisor && tenths % 2 == 1) { tenths += 1 }
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// Cuts long text for a table cell.
    static func cut(_ text: String, _ limit: Int = 90) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 3)) + "..."
    }
}
