import Foundation
import Support

/// A plain text table for human output: a header row, aligned columns, two spaces between them.
struct Table {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ cells: String...) { rows.append(cells) }

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
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
        var value = Double(count), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Cuts long text for a table cell.
    static func cut(_ text: String, _ limit: Int = 90) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 3)) + "..."
    }
}
