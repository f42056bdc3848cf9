import Foundation
import Support
import Testing
@testable import Catalog

/// The catalog's fast time and UUID paths agree with Foundation's and Support's slow ones.
@Suite struct CatalogTimeTests {
    static let dates: [Date] = [
        Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: 951_782_400.000001),
        Date(timeIntervalSince1970: 1_795_000_000.123456), Date(timeIntervalSince1970: 4_102_444_799.999999),
        Date(timeIntervalSince1970: -2_208_988_800.25),
    ] + (0..<500).map { Date(timeIntervalSince1970: Double($0) * 7_777_777.777_777) }

    @Test func parsingRoundTripsToTheMicrosecond() {
        for date in Self.dates {
            let text = CatalogTime.string(date)
            #expect(CatalogTime.parse(text) == CatalogTime.microseconds(date), "\(text)")
            #expect(CatalogTime.string(CatalogTime.parse(text)) == text)
        }
        #expect(CatalogTime.parse("2026-11-29T00:11:07Z") == UTCTime.parse("2026-11-29T00:11:07Z"))
        // Anything but the stored form is Support's to parse (or not), never a crash.
        for odd in ["2026-11-29T00:11:07.1234567Z", "2026-11-29T00:11:07.123Z", "2026-11-29 00:11:07.123456Z",
                    "2026-11-29T00:11:07.123456Z ", "2026-11-29T00:11:07.123456", "12026-11-29T00:11:07.123456Z",
                    String(repeating: "9", count: 40) + "-11-29T00:11:07.123456Z", "", "Z", "--T::.Z"] {
            #expect(CatalogTime.parse(odd) == UTCTime.parse(odd) ?? .distantPast, "\(odd)")
        }
    }

    @Test func identifiers() {
        let ids = (0..<200).map { _ in Identifiers.random() }
        #expect(Set(ids).count == 200)
        for id in ids {
            #expect(id.uuidString.dropFirst(14).first == "4")
            #expect("89AB".contains(id.uuidString.dropFirst(19).first!))
            #expect(Identifiers.parse(id.uuidString) == id)
            #expect(Identifiers.parse(id.uuidString.lowercased()) == id)
        }
        #expect(ids.allSatisfy { Identifiers.string($0) == $0.uuidString })
        for bad in ["", "nope", "5F0C6A8E-2B1D-4C3A-9E7F-0123456789A", "5F0C6A8E_2B1D-4C3A-9E7F-0123456789AB",
                    "5F0C6A8E-2B1D-4C3A-9E7F-0123456789AG", "5F0C6A8E-2B1D-4C3A-9E7F-0123456789ABC"] {
            #expect(Identifiers.parse(bad) == nil, "\(bad)")
        }
    }

    /// Event UUIDs are version 7 (RFC 9562): the Unix milliseconds in front, so they sort in time order.
    @Test func timeOrderedIdentifiers() {
        let start = Date(timeIntervalSince1970: 1_795_000_000.123456)
        var batch = Identifiers.Batch()
        let ids = (0..<200).map { batch.next(start.addingTimeInterval(Double($0) * 0.0005)) }
        #expect(Set(ids).count == 200)
        #expect(ids.map(Identifiers.string) == ids.map(Identifiers.string).sorted())
        // Within one microsecond a batch's UUIDs still differ and ascend; another batch's differ from them.
        let same = (0..<100).map { _ in batch.next(start) }
        var other = Identifiers.Batch()
        let others = (0..<100).map { _ in other.next(start) }
        #expect(Set(same + others).count == 200)
        #expect(same.map(Identifiers.string) == same.map(Identifiers.string).sorted())
        for id in ids {
            #expect(id.uuidString.dropFirst(14).first == "7")
            #expect("89AB".contains(id.uuidString.dropFirst(19).first!))
            #expect(Identifiers.string(id) == id.uuidString)
        }
        // 1795000000123 ms = 0x01A1EE565E7B
        #expect(ids[0].uuidString.hasPrefix("01A1EE56-5E7B-7"))
    }
}
