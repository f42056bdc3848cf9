import Foundation
import Support
import Testing

@Suite struct UTCTimeTests {
    @Test func roundTripsMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let text = UTCTime.string(date)
        #expect(text == "2026-11-18T11:06:40.123456Z")
        let parsed = try #require(UTCTime.parse(text))
        #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000002)
    }

    static let dates: [Date] = [
        Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: -0.5),
        Date(timeIntervalSince1970: 0.9999999), Date(timeIntervalSince1970: 59.999999), Date(timeIntervalSince1970: 951_782_400.000001),
        Date(timeIntervalSince1970: 1_795_000_000.123456), Date(timeIntervalSince1970: 4_102_444_799.999999),
        Date(timeIntervalSince1970: 1_764_374_999.9999995), Date(timeIntervalSince1970: -2_208_988_800.25), .distantPast, .distantFuture,
    ] + (0..<500).map { Date(timeIntervalSince1970: Double($0) * 7_777_777.777_777 - 1_000_000_000) }

    /// The digits written directly equal what `gmtime_r` and `String(format:)` give.
    @Test func stringMatchesFormattedDigits() {
        for date in Self.dates where date != .distantPast {
            let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
            let seconds = micros >= 0 ? micros / 1_000_000 : -((-micros + 999_999) / 1_000_000)
            var tm = tm()
            var t = time_t(seconds)
            gmtime_r(&t, &tm)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                  tm.tm_hour, tm.tm_min, tm.tm_sec, micros - seconds * 1_000_000)
            #expect(UTCTime.string(date) == expected)
        }
    }

    /// Tables' times equal Foundation's formatter (rounded to the millisecond, then cut to the second).
    @Test func readableMatchesISO8601DateFormatter() {
        for date in Self.dates {
            let expected = ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
                .replacingOccurrences(of: "T", with: " ")
            #expect(UTCTime.readable(date) == expected, "\(date.timeIntervalSince1970)")
        }
        #expect(UTCTime.readable(Date(timeIntervalSince1970: 59.9996)) == "1970-01-01 00:01:00Z")
        #expect(UTCTime.readable(Date(timeIntervalSince1970: 1.5)) == "1970-01-01 00:00:01Z")
    }

    @Test func compactNames() {
        #expect(UTCTime.compact(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
    }

    /// What `string` writes reads back without a formatter to the value ISO8601DateFormatter plus the written
    /// microseconds give (the path `parse` took for it before), for every date from 1600 on.
    @Test func writtenFormParsesLikeTheFormatter() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for date in Self.dates where date != .distantPast && date != .distantFuture {
            let text = UTCTime.string(date)
            let fast = try #require(UTCTime.parseWritten(text), "\(text)")
            #expect(UTCTime.string(fast) == text)
            guard fast.timeIntervalSince1970 >= -11_676_096_000, let slow = formatter.date(from: text) else { continue }
            let digits = String(text.dropFirst(20).prefix(6))
            let micros = try #require(Double("0." + digits))
            #expect(fast == Date(timeIntervalSince1970: slow.timeIntervalSince1970.rounded(.down) + micros), "\(text)")
            #expect(UTCTime.parse(text) == fast)
        }
        for other in ["2026-11-29T00:00:00Z", "2026-11-29T00:00:00.123Z", "2026-11-29T00:00:00.123456+00:00",
                      "2026-11-29X00:00:00.123456Z", "2026-1a-29T00:00:00.123456Z", ""] {
            #expect(UTCTime.parseWritten(other) == nil, "\(other)")
        }
        let offset = try #require(UTCTime.parse("2026-11-29T00:00:00.123456+00:00"))
        #expect(abs(offset.timeIntervalSince1970 - 1_795_910_400.123456) < 0.000001)
    }

    @Test func parsesPlainISO() {
        #expect(UTCTime.parse("2026-11-29T00:00:00Z") == Date(timeIntervalSince1970: 1_795_910_400))
        #expect(UTCTime.parse("yesterday") == nil)
    }
}
