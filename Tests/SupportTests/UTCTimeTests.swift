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

    @Test func compactNames() {
        #expect(UTCTime.compact(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
    }

    @Test func parsesPlainISO() {
        #expect(UTCTime.parse("2026-11-29T00:00:00Z") == Date(timeIntervalSince1970: 1_795_910_400))
        #expect(UTCTime.parse("yesterday") == nil)
    }
}
