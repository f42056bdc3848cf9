import Foundation

/// ISO 8601 UTC timestamps with microseconds, the one time format Valkyrie writes.
public enum UTCTime {
    /// `2026-11-29T00:11:07.123456Z`
    public static func string(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros.floorDiv(1_000_000)
        return written(seconds, separator: "T", microseconds: micros - seconds * 1_000_000)
    }

    /// `2026-11-29 00:11:07Z`, what tables show: exactly `ISO8601DateFormatter`'s `.withInternetDateTime` in UTC
    /// (rounded to the millisecond, then the second cut off) with a space for the `T`, without building a
    /// formatter per date (listing 10k sets spent 2 s there). Dates before the Gregorian calendar, which that
    /// formatter shows in the Julian one, still go through it.
    public static func readable(_ date: Date) -> String {
        let seconds = Int64((date.timeIntervalSince1970 * 1000).rounded()).floorDiv(1000)
        guard seconds >= gregorianStart else {
            return ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
                .replacingOccurrences(of: "T", with: " ")
        }
        return written(seconds, separator: " ", microseconds: nil)
    }

    /// 1583-01-01T00:00:00Z
    private static let gregorianStart: Int64 = -12_212_553_600

    /// `YYYY-MM-DD<separator>HH:MM:SS[.ffffff]Z`, the digits written directly (`String(format:)` per date
    /// was most of the time of listing many sets).
    private static func written(_ seconds: Int64, separator: Character, microseconds: Int64?) -> String {
        var tm = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &tm)
        var out = [UInt8]()
        out.reserveCapacity(27)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            for _ in 0..<count {
                out.append(UInt8(48 + value / divisor % 10))
                divisor /= 10
            }
        }
        digits(Int64(tm.tm_year) + 1900, 4); out.append(45); digits(Int64(tm.tm_mon) + 1, 2); out.append(45)
        digits(Int64(tm.tm_mday), 2); out.append(separator.asciiValue ?? 84)
        digits(Int64(tm.tm_hour), 2); out.append(58); digits(Int64(tm.tm_min), 2); out.append(58); digits(Int64(tm.tm_sec), 2)
        if let microseconds { out.append(46); digits(microseconds, 6) }
        out.append(90)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses what `string` writes, and also plain `...Z` / `+00:00` ISO 8601 forms with or without fractions.
    public static func parse(_ text: String) -> Date? {
        // What `string` writes needs no formatter (the first one loads ICU's calendars: milliseconds of a short
        // command); dates before 1600, which the formatter reads in the Julian calendar, still go through it.
        if let date = parseWritten(text), date.timeIntervalSince1970 >= seventeenthCentury { return date }
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

    /// 1600-01-01T00:00:00Z
    private static let seventeenthCentury: Double = -11_676_096_000

    /// The seven numbers of a written time in order, each ended by its separator: - - T : : . Z
    private static let writtenSeparators: [UInt8] = [45, 45, 84, 58, 58, 46, 90], writtenWidths = [4, 2, 2, 2, 2, 2, 6]

    /// Exactly `string`'s form, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (proleptic Gregorian, as `gmtime_r` writes it), read
    /// without a formatter; nil for any other text.
    public static func parseWritten(_ text: String) -> Date? {
        var numbers = (0, 0, 0, 0, 0, 0, 0)
        var field = 0, value = 0, width = 0
        let bytes = text.utf8.span  // indexing a span is about twice as fast as iterating the UTF-8 view
        for i in bytes.indices {
            let byte = bytes[i]
            guard field < 7 else { return nil }
            if byte >= 48, byte <= 57 {
                guard width < 6 else { return nil }
                value = value * 10 + Int(byte - 48)
                width += 1
                continue
            }
            guard byte == writtenSeparators[field], width == writtenWidths[field] else { return nil }
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
        guard field == 7 else { return nil }
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
