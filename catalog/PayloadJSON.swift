import Foundation
import Support

/// Event payloads as JSON, byte for byte what `JSONFormat.encoder()` (Foundation's `JSONEncoder`, sorted keys,
/// slashes unescaped, `UTCTime` dates) writes, without the intermediate tree of dictionaries that made encoding a
/// third of an append's CPU time.
///
/// Written straight into one byte buffer: an object's members go out as they come, then are reordered by key
/// (UTF-8 byte order, as Foundation sorts on Linux) when the object closes. Anything this writer does not
/// reproduce exactly (Data, URL, Decimal, nested or super containers, a value that encodes nothing, a repeated
/// key, a non-finite number) stops it, and Foundation's encoder writes the whole payload instead, so the stored
/// bytes never depend on which of the two wrote them.
enum PayloadJSON {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        try written(value) ?? PayloadCoding.encoder.encode(value)
    }

    /// The bytes as this writer makes them; nil when it leaves `value` to Foundation (or `value` throws).
    static func written<T: Encodable>(_ value: T) -> Data? {
        if T.self == FileRestored.self, let restored = value as? FileRestored { return restored.json() }
        let writer = PayloadWriter()
        guard (try? writer.encodeValue(value)) != nil else { return nil }
        return Data(writer.out)
    }
}

extension PayloadJSON {
    /// Foundation's escapes: quote, backslash and the control characters; nothing else (slashes stay).
    static func string(_ text: String, into out: inout [UInt8]) {
        JSONFormat.appendString(text, to: &out)
    }
}

extension FileRestored {
    /// The payload written member by member, keys in sorted order: a restore appends one of these per file, so
    /// they skip the Codable round through the writer (most of an append's encoding time). The same bytes as
    /// the writer's and Foundation's (PayloadJSONTests).
    func json() -> Data {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(160 + path.utf8.count + target.utf8.count)
        func key(_ name: String) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "\":".utf8)
        }
        key("digest"); PayloadJSON.string(digest, into: &out)
        if let item { key("item"); PayloadJSON.string(item, into: &out) }
        key("path"); PayloadJSON.string(path, into: &out)
        key("set"); PayloadJSON.string(set.storedText, into: &out)
        key("size"); out.append(contentsOf: String(size).utf8)
        key("target"); PayloadJSON.string(target, into: &out)
        if let vault { key("vault"); PayloadJSON.string(vault, into: &out) }
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }
}

/// Something the writer leaves to Foundation's encoder.
private struct NotHandled: Error {}

private final class PayloadWriter: Encoder {
    var out: [UInt8] = []
    /// A member of an open object: its key and where its `"key":value` bytes lie in `out`.
    private var members: [(key: String, start: Int, end: Int)] = []
    /// One per value being encoded, innermost last: what its `encode(to:)` has opened.
    private var slots: [Slot] = []
    /// Reused when an object closes (objects close innermost first, so one buffer serves all).
    private var scratch: [UInt8] = []

    private enum Slot {
        case fresh
        /// Members written from `start` in `out`; theirs are `members[firstMember...]`.
        case object(start: Int, firstMember: Int)
        case array(count: Int)
        case single
    }

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init() { out.reserveCapacity(512) }

    // MARK: Values

    func encodeValue<T: Encodable>(_ value: T) throws {
        if T.self == Date.self, let date = value as? Date {
            string(UTCTime.string(date))
        } else if T.self == UUID.self, let id = value as? UUID {
            string(id.storedText)
        } else if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            throw NotHandled()
        } else {
            slots.append(.fresh)
            try value.encode(to: self)
            try close()
        }
    }

    /// Ends the innermost value: an object gets its members in key order and its braces.
    private func close() throws {
        switch slots.removeLast() {
        case .fresh:
            throw NotHandled()
        case .single:
            break
        case .array:
            out.append(UInt8(ascii: "]"))
        case let .object(start, firstMember):
            var own = members[firstMember...]
            own.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(UInt8(ascii: "{"))
            var previous: String?
            for member in own {
                if let previous {
                    guard previous != member.key else { throw NotHandled() }
                    scratch.append(UInt8(ascii: ","))
                }
                scratch.append(contentsOf: out[member.start..<member.end])
                previous = member.key
            }
            scratch.append(UInt8(ascii: "}"))
            out.replaceSubrange(start..., with: scratch)
            members.removeSubrange(firstMember...)
        }
    }

    func string(_ text: String) { PayloadJSON.string(text, into: &out) }

    func integer<I: BinaryInteger>(_ value: I) {
        out.append(contentsOf: String(value).utf8)
    }

    /// Foundation's form: `description`, without a trailing `.0`; NaN and infinities are Foundation's to refuse.
    func floating<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) throws {
        guard value.isFinite else { throw NotHandled() }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
    }

    func bool(_ value: Bool) { out.append(contentsOf: (value ? "true" : "false").utf8) }

    func null() { out.append(contentsOf: "null".utf8) }

    // MARK: Containers

    private func open(_ slot: Slot) throws {
        guard case .fresh = slots.last else { throw NotHandled() }
        slots[slots.count - 1] = slot
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let depth = slots.count
        switch slots.last {
        case .fresh: slots[depth - 1] = .object(start: out.count, firstMember: members.count)
        case .object: break  // asked again for the same value: the same object
        default: break       // wrong state: the first write through it fails
        }
        return KeyedEncodingContainer(ObjectContainer<Key>(writer: self, depth: depth))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let depth = slots.count
        if case .fresh = slots.last {
            slots[depth - 1] = .array(count: 0)
            out.append(UInt8(ascii: "["))
        }
        return ArrayContainer(writer: self, depth: depth)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(writer: self, depth: slots.count)
    }

    /// Starts a member of the object at `depth` (which must be the innermost open value).
    func beginMember(_ key: String, depth: Int) throws -> Int {
        guard depth > 0, slots.count == depth, case .object = slots[depth - 1] else { throw NotHandled() }
        let start = out.count
        string(key)
        out.append(UInt8(ascii: ":"))
        return start
    }

    func endMember(_ key: String, start: Int) {
        members.append((key, start, out.count))
    }

    /// Starts an element of the array at `depth`.
    func beginElement(depth: Int) throws {
        guard depth > 0, slots.count == depth, case let .array(count) = slots[depth - 1] else { throw NotHandled() }
        if count > 0 { out.append(UInt8(ascii: ",")) }
        slots[depth - 1] = .array(count: count + 1)
    }

    func arrayCount(depth: Int) -> Int {
        guard depth > 0, slots.count >= depth, case let .array(count) = slots[depth - 1] else { return 0 }
        return count
    }

    /// Claims the value at `depth` for a single value.
    func beginSingle(depth: Int) throws {
        guard depth > 0, slots.count == depth else { throw NotHandled() }
        try open(.single)
    }
}

private struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: PayloadWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    private func member(_ key: Key, _ body: () throws -> Void) throws {
        let name = key.stringValue
        let start = try writer.beginMember(name, depth: depth)
        try body()
        writer.endMember(name, start: start)
    }

    mutating func encodeNil(forKey key: Key) throws { try member(key) { writer.null() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key) { writer.bool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key) { writer.string(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { try member(key) { try writer.floating(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { try member(key) { try writer.floating(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key) { writer.integer(value) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try member(key) { try writer.encodeValue(value) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(Refusing<NestedKey>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { Refusing<Key>() }
    mutating func superEncoder() -> any Encoder { RefusingEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { RefusingEncoder() }
}

/// What the array and single-value containers share: each value is written through `slot`, which claims
/// its place (an array element, or the single value) first.
private protocol ValueSlot {
    var writer: PayloadWriter { get }
    func slot(_ body: () throws -> Void) throws
}

extension ValueSlot {
    mutating func encodeNil() throws { try slot { writer.null() } }
    mutating func encode(_ value: Bool) throws { try slot { writer.bool(value) } }
    mutating func encode(_ value: String) throws { try slot { writer.string(value) } }
    mutating func encode(_ value: Double) throws { try slot { try writer.floating(value) } }
    mutating func encode(_ value: Float) throws { try slot { try writer.floating(value) } }
    mutating func encode(_ value: Int) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: Int8) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: Int16) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: Int32) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: Int64) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: UInt) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: UInt8) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: UInt16) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: UInt32) throws { try slot { writer.integer(value) } }
    mutating func encode(_ value: UInt64) throws { try slot { writer.integer(value) } }
    /// A nested value: whatever it opens is closed before the next one starts.
    mutating func encode<T: Encodable>(_ value: T) throws { try slot { try writer.encodeValue(value) } }
}

private struct ArrayContainer: UnkeyedEncodingContainer, ValueSlot {
    let writer: PayloadWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { writer.arrayCount(depth: depth) }

    func slot(_ body: () throws -> Void) throws {
        try writer.beginElement(depth: depth)
        try body()
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(Refusing<NestedKey>())
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { Refusing<AnyKey>() }
    mutating func superEncoder() -> any Encoder { RefusingEncoder() }
}

private struct SingleContainer: SingleValueEncodingContainer, ValueSlot {
    let writer: PayloadWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    func slot(_ body: () throws -> Void) throws {
        try writer.beginSingle(depth: depth)
        try body()
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Nested and super containers: every write through them fails, so Foundation's encoder takes over.
private struct Refusing<Key: CodingKey>: KeyedEncodingContainerProtocol, UnkeyedEncodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int { 0 }
    mutating func encodeNil(forKey key: Key) throws { throw NotHandled() }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { throw NotHandled() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(Refusing<NestedKey>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { self }
    mutating func superEncoder() -> any Encoder { RefusingEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { RefusingEncoder() }
    mutating func encodeNil() throws { throw NotHandled() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw NotHandled() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(Refusing<NestedKey>())
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
}

private struct RefusingEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Refusing<Key>())
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { Refusing<AnyKey>() }
    func singleValueContainer() -> any SingleValueEncodingContainer { RefusingSingle() }
}

private struct RefusingSingle: SingleValueEncodingContainer {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil() throws { throw NotHandled() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw NotHandled() }
}
