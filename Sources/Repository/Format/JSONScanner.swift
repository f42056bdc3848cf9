import Foundation

/// Reads JSON that a hand-written writer produced in `JSONFormat`'s shape (no whitespace, strings without escapes,
/// integers without fraction or exponent), over a range of bytes without copying them. Anything else throws
/// `Unhandled`: the caller then leaves the document to Foundation's decoder, so what it decodes to, or why it is
/// refused, never depends on which of the two read it.
public struct JSONScanner {
    public struct Unhandled: Error {
        public init() {}
    }

    public let bytes: [UInt8]
    public var at: Int
    public let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        at = start
        self.end = end ?? bytes.count
    }

    public var atEnd: Bool { at == end }

    /// A member's key and its colon.
    public mutating func key() throws -> String {
        let key = try string()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// A string without escapes (a backslash or a control character leaves it to Foundation).
    public mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = at
        while at < end, bytes[at] != UInt8(ascii: "\"") {
            guard bytes[at] >= 0x20, bytes[at] != UInt8(ascii: "\\") else { throw Unhandled() }
            at += 1
        }
        guard at < end, let text = String(validating: bytes[start..<at], as: UTF8.self) else { throw Unhandled() }
        at += 1
        return text
    }

    public mutating func unsigned<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws -> T {
        var value: T = 0
        let start = at
        while at < end, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(T(bytes[at] - UInt8(ascii: "0")))
            guard !overflow, !carry else { throw Unhandled() }
            value = sum
            at += 1
        }
        // JSON has no leading zeros; a fraction or exponent is Foundation's to judge.
        guard at > start, at - start == 1 || bytes[start] != UInt8(ascii: "0"),
              at == end || ![UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) else {
            throw Unhandled()
        }
        return value
    }

    public mutating func signed() throws -> Int64 {
        let negative = try take(UInt8(ascii: "-"))
        let magnitude = try unsigned(UInt64.self)
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw Unhandled() }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw Unhandled() }
        return Int64(magnitude)
    }

    /// `true` or `false`.
    public mutating func bool() throws -> Bool {
        if word(Array("true".utf8)) { return true }
        if word(Array("false".utf8)) { return false }
        throw Unhandled()
    }

    public mutating func expect(_ byte: UInt8) throws {
        guard try take(byte) else { throw Unhandled() }
    }

    public mutating func take(_ byte: UInt8) throws -> Bool {
        guard at < end else { throw Unhandled() }
        guard bytes[at] == byte else { return false }
        at += 1
        return true
    }

    private mutating func word(_ literal: [UInt8]) -> Bool {
        guard at + literal.count <= end, bytes[at..<at + literal.count].elementsEqual(literal) else { return false }
        at += literal.count
        return true
    }
}
