import Crypto
import Foundation

/// An event exactly as stored: the text of every column that the hash covers (canonical-encoding.md).
struct EventFields: Sendable, Equatable {
    var seq: Int64
    var uuid: String
    var type: String
    var version: Int
    var occurredAt: String
    var recordedAt: String
    var host: String
    var actorUID: Int64
    var actorName: String
    var setID: String?
    var payload: Data
}

/// The canonical encoding of an event and its chain hash, as written down in catalog/canonical-encoding.md:
/// `hash = SHA-256(previous hash || encoding)`, the encoding being eleven length-prefixed fields after a tag.
enum CanonicalEncoding {
    static let tag = "valkyrie-event-1"
    /// The `previous hash` of event 1.
    static let genesis = Data(repeating: 0, count: 32)

    static func encode(_ event: EventFields) -> Data { Data(head(event)) + event.payload }

    /// The encoding up to the payload's bytes (an array: appending small pieces to `Data` costs more than the
    /// hashing). The payload follows as it is, never copied behind it.
    static func head(_ event: EventFields) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        func length(_ count: Int) {
            out.append(UInt8(truncatingIfNeeded: count >> 24))
            out.append(UInt8(truncatingIfNeeded: count >> 16))
            out.append(UInt8(truncatingIfNeeded: count >> 8))
            out.append(UInt8(truncatingIfNeeded: count))
        }
        func field(_ text: String) {
            length(text.utf8.count)
            out.append(contentsOf: text.utf8)
        }
        field(tag)
        field(String(event.seq))
        field(event.uuid)
        field(event.type)
        field(String(event.version))
        field(event.occurredAt)
        field(event.recordedAt)
        field(event.host)
        field(String(event.actorUID))
        field(event.actorName)
        field(event.setID ?? "")
        length(event.payload.count)
        return out
    }

    static func hash(previous: Data, _ event: EventFields) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: head(event))
        hasher.update(data: event.payload)
        return Data(hasher.finalize())
    }
}
