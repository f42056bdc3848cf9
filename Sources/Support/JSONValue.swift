import Foundation

/// Any JSON document, kept as it was given: opaque set metadata in the repository, event payloads of types
/// this build does not know in the catalog. Integers stay integers, so re-encoding never changes a payload.
public indirect enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON form of any encodable value.
    public init(encoding value: some Encodable) throws {
        self = try JSONFormat.decoder().decode(JSONValue.self, from: JSONFormat.encoder().encode(value))
    }

    /// This document decoded as `type`.
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try JSONFormat.decoder().decode(type, from: JSONFormat.encoder().encode(self))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// One line of `key=value` pairs, for tables.
    public var compactText: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return String(value)
        case let .integer(value): return String(value)
        case let .number(value): return String(value)
        case let .string(value): return value
        case let .array(values): return "[" + values.map(\.compactText).joined(separator: ", ") + "]"
        case let .object(members):
            return members.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.compactText)" }.joined(separator: " ")
        }
    }
}
