import Crypto
import Foundation
import Support

/// A 32-byte identifier: a blob's keyed HMAC-SHA256, or an object's SHA-256. Shown and stored as lowercase hex.
public struct BlobID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    // Four words rather than a Data: 32 bytes inline, cheap to hash, no allocation per index entry.
    private let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.init(Array(bytes), at: 0)
    }

    /// The id held in `bytes[start..<start + 32]` (index files and pack headers hold ids as raw bytes): read
    /// straight from the array, since opening a repository reads one per blob it holds.
    init(_ bytes: [UInt8], at start: Int) {
        func word(_ from: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in from..<from + 8 { value = value << 8 | UInt64(bytes[i]) }
            return value
        }
        (a, b, c, d) = (word(start), word(start + 8), word(start + 16), word(start + 24))
    }

    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        self.init(hex: utf8, at: 0)
    }

    /// The id whose 64 lowercase hex digits are `utf8[start..<start + 64]` (trees hold ids as hex).
    init?(hex utf8: [UInt8], at start: Int) {
        guard start >= 0, start + 64 <= utf8.count else { return nil }
        func word(_ from: Int) -> UInt64? {
            var value: UInt64 = 0
            for i in from..<from + 16 {
                guard let nibble = Self.nibble(utf8[i]) else { return nil }
                value = value << 4 | UInt64(nibble)
            }
            return value
        }
        guard let a = word(start), let b = word(start + 16), let c = word(start + 32), let d = word(start + 48) else { return nil }
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    /// Appends the 64 lowercase hex digits.
    func appendHex(to out: inout [UInt8]) {
        func append(_ word: UInt64) {
            for shift in stride(from: 60, through: 0, by: -4) { out.append(Self.hexDigits[Int(word >> UInt64(shift) & 0xf)]) }
        }
        append(a)
        append(b)
        append(c)
        append(d)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// SHA-256 of `data`: the name of a stored object.
    public static func sha256(_ data: Data) -> BlobID {
        BlobID(bytes: Array(SHA256.hash(data: data)))!
    }

    public var bytes: [UInt8] {
        [a, b, c, d].flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) } }
    }

    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The first 8 hex digits, for messages.
    public var short: String { String(hex.prefix(8)) }

    public var description: String { hex }

    /// The four words, for the index's hash table.
    var words: (UInt64, UInt64, UInt64, UInt64) { (a, b, c, d) }

    /// The first four bytes as a number (for choosing rotating subsets).
    public var prefix32: UInt32 { UInt32(truncatingIfNeeded: a >> 32) }

    public static func < (lhs: BlobID, rhs: BlobID) -> Bool {
        (lhs.a, lhs.b, lhs.c, lhs.d) < (rhs.a, rhs.b, rhs.c, rhs.d)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = BlobID(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 64-digit hex id: \(text)")
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
