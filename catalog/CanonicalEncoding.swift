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

    static func encode(_ event: EventFields) -> Data {
        var out = Data()
        out.reserveCapacity(256 + event.payload.count)
        func field(_ bytes: Data) {
            let length = UInt32(bytes.count)
            out.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)])
            out.append(bytes)
        }
        func field(_ text: String) { field(Data(text.utf8)) }
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
        field(event.payload)
        return out
    }

    static func hash(previous: Data, _ event: EventFields) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: encode(event))
        return Data(hasher.finalize())
    }
}
