import Foundation

public enum BlobType: UInt8, Sendable, Codable {
    case data = 0
    case tree = 1
}

/// One blob's line in a pack header and in an index file (docs/repository-format.md, Packs).
struct PackEntry: Sendable, Equatable {
    var type: BlobType
    var compressed: Bool
    /// Bytes in the pack: nonce, ciphertext and tag.
    var storedLength: UInt32
    /// Bytes after decryption and decompression.
    var rawLength: UInt32
    var offset: UInt32
    var id: BlobID

    static let size = 46

    func encode(into out: inout Data, offset: UInt32? = nil) {
        out.append(type.rawValue)
        out.append(compressed ? 1 : 0)
        out.appendLE(storedLength)
        out.appendLE(rawLength)
        out.appendLE(offset ?? self.offset)
        out.append(contentsOf: id.bytes)
    }

    /// The blob's associated data: its entry with the offset zeroed.
    var associatedData: Data {
        var out = Data(capacity: Self.size)
        encode(into: &out, offset: 0)
        return out
    }

    /// The entry at `b` of an index file's or a pack header's bytes (read as an array: a `Data` subscript per
    /// byte was most of the time of loading the index).
    static func decode(_ bytes: [UInt8], at b: Int) throws -> PackEntry {
        guard b >= 0, b + size <= bytes.count else { throw FormatError.truncated }
        guard let type = BlobType(rawValue: bytes[b]), bytes[b + 1] <= 1 else { throw FormatError.badEntry }
        return PackEntry(type: type, compressed: bytes[b + 1] == 1,
                         storedLength: bytes.readLE(at: b + 2), rawLength: bytes.readLE(at: b + 6),
                         offset: bytes.readLE(at: b + 10), id: BlobID(bytes, at: b + 14))
    }
}

enum FormatError: Error, Equatable {
    case truncated
    case badEntry
    case badTrailer
}

/// Pack layout: blobs, then the encrypted header, its length (UInt32 LE) and the magic "VKP1".
enum PackFormat {
    static let magic = Data("VKP1".utf8)
    static let trailerSize = 8
    static let headerAssociatedData = Data("valkyrie pack header v1".utf8)

    /// Closes a pack of `blobs` (already sealed, concatenated) described by `entries`.
    static func finish(blobs: Data, entries: [PackEntry], key: MasterKey) throws -> Data {
        var pack = blobs
        try close(&pack, entries: entries, key: key)
        return pack
    }

    /// Appends the sealed header and the trailer to `blobs` in place (no copy of the blobs when the caller
    /// holds the only reference).
    static func close(_ blobs: inout Data, entries: [PackEntry], key: MasterKey) throws {
        var header = Data(capacity: entries.count * PackEntry.size)
        for entry in entries { entry.encode(into: &header) }
        let sealed = try key.seal(header, associatedData: headerAssociatedData)
        blobs.append(sealed)
        blobs.appendLE(UInt32(sealed.count))
        blobs.append(magic)
    }

    /// The length of the sealed header, read from a pack's last 8 bytes.
    static func headerLength(trailer: Data) throws -> Int {
        guard trailer.count == trailerSize, trailer.suffix(4) == magic else { throw FormatError.badTrailer }
        return Int(trailer.readLE(at: trailer.startIndex) as UInt32)
    }

    /// Decrypts and parses a sealed header.
    static func entries(sealedHeader: Data, key: MasterKey) throws -> [PackEntry] {
        let header = try key.open(sealedHeader, associatedData: headerAssociatedData)
        guard header.count % PackEntry.size == 0 else { throw FormatError.truncated }
        let bytes = [UInt8](header)
        return try stride(from: 0, to: bytes.count, by: PackEntry.size).map { try PackEntry.decode(bytes, at: $0) }
    }

    /// Reads a pack's header from the backend with two ranged reads.
    static func readEntries(pack name: String, size: Int, backend: Backend, key: MasterKey) async throws -> [PackEntry] {
        guard size >= trailerSize else { throw FormatError.badTrailer }
        let trailer = try await backend.get(name, offset: size - trailerSize, length: trailerSize)
        let length = try headerLength(trailer: trailer)
        guard length <= size - trailerSize else { throw FormatError.badTrailer }
        let sealed = try await backend.get(name, offset: size - trailerSize - length, length: length)
        return try entries(sealedHeader: sealed, key: key)
    }

    /// The backend name of a pack.
    static func name(_ id: BlobID) -> String {
        let hex = id.hex
        return "data/\(hex.prefix(2))/\(hex)"
    }

    /// The pack id a backend name (`data/ab/<id>`) holds, or nil for anything else.
    static func id(_ name: String) -> BlobID? {
        BlobID(hex: String(name.split(separator: "/").last ?? ""))
    }
}

extension Data {
    mutating func appendLE(_ value: UInt32) {
        append(contentsOf: [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                            UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)])
    }

}

extension RandomAccessCollection where Element == UInt8, Index == Int {
    /// The little-endian UInt32 at `index` (an absolute index, also for a `Data` slice).
    func readLE(at index: Int) -> UInt32 {
        UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16 | UInt32(self[index + 3]) << 24
    }
}
