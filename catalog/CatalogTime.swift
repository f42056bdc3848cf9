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

    /// Parses `YYYY-MM-DDTHH:MM:SS.ffffffZ` without a formatter (listing 10k sets must stay fast); other forms go
    /// through `UTCTime.parse`.
    static func parse(_ text: String) -> Date {
        UTCTime.parseWritten(text) ?? UTCTime.parse(text) ?? .distantPast
    }
}
