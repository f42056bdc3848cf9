import Foundation
import Support

/// The catalog's times: stored as `UTCTime.string` text (microseconds), read back quickly.
enum CatalogTime {
    /// `date` rounded to the microsecond exactly as reading its stored text gives it back.
    static func microseconds(_ date: Date) -> Date {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : -((-micros + 999_999) / 1_000_000)
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros - seconds * 1_000_000) / 1_000_000)
    }

    /// The stored text of `date` (`UTCTime.string`).
    static func string(_ date: Date) -> String { UTCTime.string(date) }

    /// Parses `YYYY-MM-DDTHH:MM:SS.ffffffZ` without a formatter (listing 10k sets must stay fast); other
    /// forms go through `UTCTime.parse`.
    static func parse(_ text: String) -> Date {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<from + count {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count == 27, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 46, b[26] == 90,
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let micros = number(20, 6)
        else { return UTCTime.parse(text) ?? .distantPast }
        // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}
