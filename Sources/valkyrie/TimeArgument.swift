import Foundation
import Support

/// Times given on the command line: ISO 8601 (`2026-11-29T00:00:00Z`), a UTC date (`2026-11-29`), or an
/// age (`90m`, `36h`, `7d`, `2w`) counted back from now.
enum TimeArgument {
    static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let date = UTCTime.parse(text) { return date }
        if let date = UTCTime.parse(text + "T00:00:00Z"), text.count == 10 { return date }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Double(text.dropLast()), count >= 0 else { return nil }
        return now.addingTimeInterval(-count * unit)
    }
}
