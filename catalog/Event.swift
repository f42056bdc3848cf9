import Foundation
import Support

/// An event to append: type, payload schema version, JSON payload and the time it happened. The catalog adds
/// sequence number, UUID, recording time, origin and hashes.
public struct EventDraft: Sendable {
    public var type: EventType
    public var version: Int
    /// A JSON object, stored and hashed byte for byte.
    public var payload: Data
    public var set: UUID?
    public var occurredAt: Date
    /// The payload as typed by the caller, so the projections need not decode what was just encoded.
    let typed: (any EventPayload)?

    /// A typed event.
    public init<P: EventPayload>(_ payload: P, occurredAt: Date = Date()) throws {
        self.type = P.type
        self.version = P.version
        self.payload = try PayloadJSON.encode(payload)
        self.set = payload.setID
        self.occurredAt = occurredAt
        self.typed = payload
    }

    /// An event as another (possibly newer) Valkyrie wrote it, e.g. when copying a chain.
    public init(type: EventType, version: Int, payload: Data, set: UUID?, occurredAt: Date) throws {
        guard case .object = try? PayloadCoding.decoder.decode(JSONValue.self, from: payload) else {
            throw OperatorError.badInput("the payload of a \(type) event is not a JSON object")
        }
        self.type = type
        self.version = version
        self.payload = payload
        self.set = set
        self.occurredAt = occurredAt
        self.typed = nil
    }
}

/// An event as recorded in the chain.
public struct StoredEvent: Sendable, Equatable {
    public var seq: Int64
    public var uuid: UUID
    public var type: EventType
    public var version: Int
    public var occurredAt: Date
    public var recordedAt: Date
    public var host: String
    public var actorUID: UInt32
    public var actorName: String
    public var set: UUID?
    public var payload: Data
    /// SHA-256 of the previous event (32 zero bytes before event 1).
    public var previousHash: Data
    /// SHA-256(previousHash || canonical encoding).
    public var hash: Data

    /// Whether this build knows the type.
    public var isKnown: Bool { KnownEvents.byType[type] != nil }

    /// The payload as `P`, or nil when the event is of another type or its payload does not decode
    /// (a newer version that changed shape: shown raw, never dropped).
    public func decode<P: EventPayload>(_: P.Type) -> P? {
        guard type == P.type else { return nil }
        return try? PayloadCoding.decoder.decode(P.self, from: payload)
    }

    /// The payload as generic JSON, whatever its type.
    public var payloadJSON: JSONValue {
        (try? PayloadCoding.decoder.decode(JSONValue.self, from: payload)) ?? .string(String(decoding: payload, as: UTF8.self))
    }
}

/// The stable `--json` shape of an event (README, Catalog).
extension StoredEvent: Encodable {
    private enum Keys: String, CodingKey {
        case seq, uuid, type, version, occurredAt, recordedAt, host, actor, set, payload, known, previousHash, hash
    }
    private struct Actor: Encodable { let uid: UInt32; let name: String }

    public func encode(to encoder: Encoder) throws {
        var out = encoder.container(keyedBy: Keys.self)
        try out.encode(seq, forKey: .seq)
        try out.encode(uuid, forKey: .uuid)
        try out.encode(type, forKey: .type)
        try out.encode(version, forKey: .version)
        try out.encode(occurredAt, forKey: .occurredAt)
        try out.encode(recordedAt, forKey: .recordedAt)
        try out.encode(host, forKey: .host)
        try out.encode(Actor(uid: actorUID, name: actorName), forKey: .actor)
        try out.encode(set, forKey: .set)
        try out.encode(payloadJSON, forKey: .payload)
        try out.encode(isKnown, forKey: .known)
        try out.encode(previousHash.hexString, forKey: .previousHash)
        try out.encode(hash.hexString, forKey: .hash)
    }
}

/// The newest event: its sequence number and hash (what `chain anchored` writes into the repository).
public struct ChainHead: Sendable, Equatable, Codable {
    public var seq: Int64
    /// Hex SHA-256; 64 zeros for an empty chain.
    public var hash: String
}

/// One encoder and decoder for payloads, made once: building a JSONEncoder per event showed in the profile.
enum PayloadCoding {
    static let encoder = JSONFormat.encoder()
    static let decoder = JSONFormat.decoder()
}
