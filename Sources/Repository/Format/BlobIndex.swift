import Foundation
import Support

/// Where a blob lives: its pack (a number into the pack table) and its pack entry without the id.
struct BlobLocation: Sendable, Equatable {
    var pack: UInt32
    var offset: UInt32
    var storedLength: UInt32
    var rawLength: UInt32
    var type: BlobType
    var compressed: Bool
}

/// The in-memory index: every blob of every indexed pack. A value type kept behind the repository's lock.
struct BlobIndex: Sendable {
    private var packs = Numbering<BlobID>()
    private var blobs = BlobTable()

    var blobCount: Int { blobs.count }

    func location(_ id: BlobID) -> BlobLocation? { blobs.location(id) }

    func contains(pack: BlobID) -> Bool { packs.contains(pack) }

    func pack(_ number: UInt32) -> BlobID { packs[number] }

    /// Records a pack and its entries; a blob already indexed elsewhere keeps its first location.
    mutating func add(pack: BlobID, entries: [PackEntry]) {
        let number = packs.number(pack)
        for entry in entries {
            blobs.insert(entry.id, BlobLocation(pack: number, offset: entry.offset, storedLength: entry.storedLength,
                                                rawLength: entry.rawLength, type: entry.type, compressed: entry.compressed))
        }
    }

    /// Every blob, grouped by pack, as pack entries.
    func entriesByPack() -> [BlobID: [PackEntry]] {
        var out: [BlobID: [PackEntry]] = [:]
        blobs.forEach { id, location in
            out[packs[location.pack], default: []].append(PackEntry(
                type: location.type, compressed: location.compressed, storedLength: location.storedLength,
                rawLength: location.rawLength, offset: location.offset, id: id))
        }
        return out
    }
}

/// An index file: for each pack, its id, entry count and entries (docs/repository-format.md, Index).
enum IndexFile {
    static let associatedData = Data("valkyrie index v1".utf8)

    static func encode(_ packs: [(id: BlobID, entries: [PackEntry])]) -> Data {
        var out = Data()
        for pack in packs { append(pack: pack.id, entries: pack.entries, to: &out) }
        return out
    }

    /// One pack's part of an index file; an index file is these parts one after another.
    static func append(pack: BlobID, entries: [PackEntry], to out: inout Data) {
        out.append(contentsOf: pack.bytes)
        out.appendLE(UInt32(entries.count))
        for entry in entries { entry.encode(into: &out) }
    }

    static func decode(_ data: Data) throws -> [(id: BlobID, entries: [PackEntry])] {
        let bytes = [UInt8](data)
        var packs: [(id: BlobID, entries: [PackEntry])] = []
        var position = 0
        while position < bytes.count {
            guard position + 36 <= bytes.count else { throw FormatError.truncated }
            let id = BlobID(bytes, at: position)
            let count = Int(bytes.readLE(at: position + 32))
            position += 36
            guard count <= (bytes.count - position) / PackEntry.size else { throw FormatError.truncated }
            var entries: [PackEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                entries.append(try PackEntry.decode(bytes, at: position))
                position += PackEntry.size
            }
            packs.append((id, entries))
        }
        return packs
    }
}
