import Foundation
import Support
import Testing
@testable import Catalog

/// The catalog's own payload writer must write exactly the bytes of `JSONFormat.encoder()` (Foundation), since
/// the stored bytes are what the chain hashes and what older builds wrote.
@Suite struct PayloadJSONTests {
    /// `value` is written by the catalog's writer itself (`handled`) or left to Foundation, and either way comes
    /// out as Foundation writes it.
    private func expectSame<T: Encodable>(_ value: T, handled: Bool = true,
                                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let foundation = try JSONFormat.encoder().encode(value)
        let ours = PayloadJSON.written(value)
        #expect((ours != nil) == handled, sourceLocation: sourceLocation)
        #expect(String(decoding: ours ?? foundation, as: UTF8.self) == String(decoding: foundation, as: UTF8.self),
                sourceLocation: sourceLocation)
        #expect(try PayloadJSON.encode(value) == foundation, sourceLocation: sourceLocation)
    }

    /// Every byte below 0x80 that JSON escapes or not, quotes, backslash, slash, DEL, multi-byte UTF-8.
    static let awkward: [String] = [
        "", "plain", "/var/lib/vaulthalla/a b.txt", "quote \" and \\ backslash", "tab\tnew\nline\rcr",
        String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }), "del \u{7F}", "é ü ß", "emoji 🗝️",
        "line sep \u{2028} para \u{2029}", "</script>", "\u{0}nul",
    ]

    @Test func everyKnownPayloadIsWrittenAsFoundationWritesIt() throws {
        let set = UUID(), drill = UUID()
        for text in Self.awkward {
            try expectSame(RepositoryInitialized(location: text, repositoryID: "r", keySlots: [text, "gpg"]))
            try expectSame(BackupStarted(set: set, name: text, host: "vh1", ordinal: 7, valkyrieVersion: "0.1.0", items: ["etc", text]))
            try expectSame(ItemCaptured(set: set, item: text, root: "tree:1", digest: "d", size: 1 << 40, files: 2,
                                        keyMaterial: true, warnings: [text], seconds: 0.1))
            try expectSame(BackupCompleted(set: set, warnings: [text, text]))
            try expectSame(BackupFailed(set: set, error: text, item: nil))
            try expectSame(ExportRecorded(set: set, export: "vault-key", vault: text, recipients: ["F"], vaults: [], digest: "x", size: 9))
            try expectSame(SetForgotten(set: set, reason: text, snapshot: text))
            try expectSame(DrillCheck(drill: drill, set: set, name: text, passed: false, evidence: text, sensitive: true))
            try expectSame(DrillCompleted(drill: drill, set: set, passed: true, report: text))
            // Written member by member (FileRestored.json), with and without its optional members.
            try expectSame(FileRestored(set: set, item: nil, path: text, vault: text, target: "/tmp/x", size: -1, digest: "h"))
            try expectSame(FileRestored(set: set, item: text, path: text, vault: nil, target: text, size: .max, digest: text))
            try expectSame(FileRestored(set: set, item: nil, path: text, vault: nil, target: text, size: .min, digest: ""))
            try expectSame(FileRestored(set: set, item: text, path: "/", vault: text, target: text, size: 0, digest: text))
            try expectSame(KeyExtracted(set: set, vault: text, keyVersion: Int.max, recipients: [text]))
            try expectSame(ChainAnchored(seq: Int64.min, hash: text, location: text))
        }
        try expectSame(PruneCompleted(removedPacks: 1, removedBytes: 2, keptPacks: 3))
        try expectSame(PruneCompleted(removedPacks: 0, removedBytes: Int64.max, keptPacks: 3, condemnedPacks: 4,
                                      pendingBytes: 5, repackedPacks: 6, seconds: 1234.5))
        try expectSame(VerifyCompleted(checkedPacks: 4, readDataPercent: 12.5, problems: ["p"], subset: 1, subsets: 7, packsRead: 3,
                                       readBack: [DataReadBack(set: set, at: Date(timeIntervalSince1970: 1_764_000_000.123456)),
                                                  DataReadBack(set: drill, at: Date(timeIntervalSince1970: -1))]))
        try expectSame(VerifyCompleted(checkedPacks: 0, problems: []))
        try expectSame(DrillStarted(drill: drill, set: set))
    }

    @Test func numbersAreWrittenAsFoundationWritesThem() throws {
        let doubles: [Double] = [0, -0.0, 0.1, 1, -1, 1.5, 12.5, 1e-7, 1e-5, 1e15, 1e16, 1e21, 123456.789, 0.1 + 0.2,
                                 .pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 5e-324]
        for value in doubles {
            try expectSame(PruneCompleted(removedPacks: 0, removedBytes: 0, keptPacks: 0, seconds: value))
            try expectSame([value])
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            try expectSame([Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF), Double.random(in: -1e6...1e6)])
            try expectSame([Float.random(in: -1000...1000)])
            try expectSame([Int64(bitPattern: generator.next()), Int64(Int32.random(in: .min ... .max))])
            try expectSame([UInt64(generator.next()), 0])
        }
        try expectSame(Shapes())
    }

    @Test func randomStringsAreEscapedAsFoundationEscapesThem() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let scalars = (0..<Int.random(in: 0...40, using: &generator)).compactMap { _ -> Character? in
                let pick = Int.random(in: 0...3, using: &generator)
                let value: UInt32 = pick == 0 ? UInt32.random(in: 0..<0x20, using: &generator)
                    : pick == 1 ? UInt32.random(in: 0x20..<0x80, using: &generator)
                    : pick == 2 ? UInt32.random(in: 0x80..<0x800, using: &generator)
                    : UInt32.random(in: 0x800..<0x1_0000, using: &generator)
                return Unicode.Scalar(value).map(Character.init)
            }
            let text = String(scalars)
            try expectSame(FileRestored(set: UUID(), path: text, target: text, size: 1, digest: text))
            try expectSame([text: text, "k" + text: "v"])
        }
    }

    /// Shapes the payloads do not use today: dictionaries, nested arrays, optionals in arrays, key order that
    /// differs between declaration, case and byte order.
    private struct Shapes: Encodable {
        var zeta = 1
        var Alpha = "upper first"
        var alpha = [[String]]([["a"], [], ["b", "c"]])
        var beta: [Int?] = [1, nil, 3]
        var map = ["b": 2, "a": 1, "B": 0, "aa": 3]
        var flags: [Bool] = [true, false]
        var small: [Int8] = [-128, 127]
        var unsigned: [UInt16] = [0, 65535]
        var empty: [String: Int] = [:]
        var nested = Inner()
        var nothing: String?
        struct Inner: Encodable { var y = 2; var x = [Date(timeIntervalSince1970: 0)]; var id = UUID() }
    }

    @Test func whatTheWriterLeavesToFoundationComesOutTheSame() throws {
        struct WithData: Encodable { var blob = Data([0, 1, 2, 255]); var url = URL(string: "https://example.com/a?b=c")! }
        struct WithDecimal: Encodable { var amount = Decimal(string: "12.345")! }
        struct Repeated: Encodable {
            enum Keys: String, CodingKey { case a }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(1, forKey: .a)
                try container.encode(2, forKey: .a)
            }
        }
        struct Nested: Encodable {
            enum Keys: String, CodingKey { case outer, inner }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var inner = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
                try inner.encode("x", forKey: .inner)
                var list = container.nestedUnkeyedContainer(forKey: .inner)
                try list.encode(3)
            }
        }
        struct Silent: Encodable {
            var inner = Nothing()
            struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        }
        try expectSame(WithData(), handled: false)
        try expectSame(WithDecimal(), handled: false)
        try expectSame(Repeated(), handled: false)
        try expectSame(Nested(), handled: false)
        try expectSame(Silent(), handled: false)
    }

    @Test func nonFiniteNumbersAreRefusedAsFoundationRefusesThem() throws {
        #expect(throws: EncodingError.self) { try PayloadJSON.encode([Double.nan]) }
        #expect(throws: EncodingError.self) {
            try PayloadJSON.encode(PruneCompleted(removedPacks: 0, removedBytes: 0, keptPacks: 0, seconds: .infinity))
        }
    }
}
