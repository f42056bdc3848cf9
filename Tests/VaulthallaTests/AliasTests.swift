import Foundation
import Testing
@testable import Vaulthalla

@Suite struct AliasTests {
    @Test func crockfordMatchesThePublishedFoobarVector() {
        // RFC 4648 base32 of "foobar" is MZXW6YTBOI; the same 5-bit values in Crockford's alphabet.
        #expect(Alias.crockford(Data("foobar".utf8)) == "CSQPYRK1E8")
    }

    @Test func sixteenBytesMakeTwentySixCharactersWithZeroPadding() {
        #expect(Alias.crockford(Data(repeating: 0xFF, count: 16)) == String(repeating: "Z", count: 25) + "W")
        #expect(Alias.crockford(Data(count: 16)) == String(repeating: "0", count: 26))
    }

    @Test func aliasHasVaulthallasShape() {
        let alias = Alias.make(name: "Quarterly report.xlsx", random: Data((0..<16).map { UInt8($0 * 13) }))
        #expect(alias.count == 33)
        #expect(Array(alias)[6] == "_")
        #expect(Alias.isValid(alias))
        #expect(alias.allSatisfy { $0 == "_" || Alias.alphabet.contains($0) })
        // No I, L, O, U: Crockford leaves them out.
        #expect(!alias.contains { "ILOU".contains($0) })
    }

    @Test func prefixComesFromTheNameAndTheRestFromTheRandomBytes() {
        let a = Alias.make(name: "finance", random: Data(count: 16))
        let b = Alias.make(name: "finance", random: Data(repeating: 1, count: 16))
        let c = Alias.make(name: "Finance", random: Data(count: 16))
        #expect(a.prefix(6) == b.prefix(6))
        #expect(a.suffix(26) != b.suffix(26))
        #expect(a.prefix(6) != c.prefix(6))
        #expect(Alias.prefix(for: "日本語のメモ").count == 6)
    }

    @Test func malformedAliasesAreRejected() {
        let good = Alias.make(name: "x", random: Data(count: 16))
        #expect(!Alias.isValid(String(good.dropLast())))
        #expect(!Alias.isValid(good + "0"))
        #expect(!Alias.isValid(good.replacingOccurrences(of: "_", with: "0")))
        #expect(!Alias.isValid("ABCDEF_" + String(repeating: "I", count: 26)))
        #expect(!Alias.isValid(good.lowercased()))
    }
}
