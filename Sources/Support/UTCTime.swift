import Foundation

/// ISO 8601 UTC timestamps with microseconds, the one time format Valkyrie writes.
public enum UTCTime {
    /// `2026-11-29T00:11:07.123456Z`
    public static func string(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros.floorDiv(1_000_000), fraction = micros - seconds * 1_000_000
        var tm = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction)
    }

    /// Parses what `string` writes, and also plain `...Z` / `+00:00` ISO 8601 forms with or without fractions.
    public static func parse(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) {
            // ISO8601DateFormatter keeps milliseconds only; recover the microseconds we wrote.
            if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
                let digits = text[text.index(after: dot)..<end]
                if let value = Double("0." + digits) {
                    return Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down) + value)
                }
            }
            return date
        }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }

    /// `20261129T001107Z`, for names of sets and files.
    public static func compact(_ date: Date) -> String {
        var tm = tm()
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        gmtime_r(&t, &tm)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
    }
}

private extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}
