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

    /// The seven numbers of a stored time in order, each ended by its separator: - - T : : . Z
    private static let separators: [UInt8] = [45, 45, 84, 58, 58, 46, 90], widths = [4, 2, 2, 2, 2, 2, 6]

    /// Parses `YYYY-MM-DDTHH:MM:SS.ffffffZ` without a formatter or a copy of the text (listing 10k sets must
    /// stay fast); other forms go through `UTCTime.parse`.
    static func parse(_ text: String) -> Date {
        var numbers = (0, 0, 0, 0, 0, 0, 0)
        var field = 0, value = 0, width = 0, valid = true
        let bytes = text.utf8.span  // indexing a span is about twice as fast as iterating the UTF-8 view
        for i in bytes.indices {
            let byte = bytes[i]
            guard field < 7 else { valid = false; break }
            if byte >= 48, byte <= 57 {
                guard width < 6 else { valid = false; break }
                value = value * 10 + Int(byte - 48)
                width += 1
                continue
            }
            guard byte == separators[field], width == widths[field] else { valid = false; break }
            switch field {
            case 0: numbers.0 = value
            case 1: numbers.1 = value
            case 2: numbers.2 = value
            case 3: numbers.3 = value
            case 4: numbers.4 = value
            case 5: numbers.5 = value
            default: numbers.6 = value
            }
            field += 1
            value = 0
            width = 0
        }
        guard valid, field == 7 else { return UTCTime.parse(text) ?? .distantPast }
        let (year, month, day, hour, minute, second, micros) = numbers
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
