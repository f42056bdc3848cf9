import Foundation

/// The blob half of the in-memory index: blob id -> location, for every blob of every indexed pack.
///
/// A `Dictionary<BlobID, BlobLocation>` costs about 110 bytes a blob at its usual load, and half as much again
/// while it grows; at a million blobs that was most of a backup's memory. Here an entry is 48 bytes in blocks
/// of fixed size that never move, and the hash table holds 32-bit entry numbers (open addressing, linear
/// probing, at most 3/4 full), so a blob costs 48 bytes plus 5 to 11 of table, and growing copies only the
/// table. A blob already present keeps its first location, as the dictionary did.
struct BlobTable: Sendable {
    private struct Entry: Sendable {
        var id: BlobID
        /// The pack number in the low 30 bits, the blob type in bit 30, compression in bit 31.
        var packAndFlags: UInt32
        var offset: UInt32
        var storedLength: UInt32
        var rawLength: UInt32

        var location: BlobLocation {
            BlobLocation(pack: packAndFlags & Self.packMask, offset: offset, storedLength: storedLength, rawLength: rawLength,
                         type: packAndFlags & Self.treeBit != 0 ? .tree : .data, compressed: packAndFlags & Self.compressedBit != 0)
        }

        static let packMask: UInt32 = (1 << 30) - 1
        static let treeBit: UInt32 = 1 << 30
        static let compressedBit: UInt32 = 1 << 31
    }

    /// Pack numbers must stay below this (a billion packs of 16 MiB: far beyond any repository).
    static let packLimit = Int(Entry.packMask) + 1
    static let blockSize = 4096

    private var blocks: [[Entry]] = []
    /// 0 for an empty slot, else the entry's number + 1.
    private var slots: [UInt32] = []
    private(set) var count = 0

    func location(_ id: BlobID) -> BlobLocation? {
        find(id).entry.map { entry($0).location }
    }

    /// Adds `id` at `location` unless it is present; returns whether it was added.
    @discardableResult
    mutating func insert(_ id: BlobID, _ location: BlobLocation) -> Bool {
        precondition(Int(location.pack) < Self.packLimit && count < Int(UInt32.max), "blob index full")
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let probe = find(id)
        guard probe.entry == nil else { return false }
        if blocks.isEmpty || blocks[blocks.count - 1].count == Self.blockSize {
            var block: [Entry] = []
            block.reserveCapacity(Self.blockSize)
            blocks.append(block)
        }
        blocks[blocks.count - 1].append(Entry(
            id: id, packAndFlags: location.pack | (location.type == .tree ? Entry.treeBit : 0) | (location.compressed ? Entry.compressedBit : 0),
            offset: location.offset, storedLength: location.storedLength, rawLength: location.rawLength))
        count += 1
        slots[probe.slot] = UInt32(count)
        return true
    }

    /// Every blob, in the order they were added.
    func forEach(_ body: (BlobID, BlobLocation) throws -> Void) rethrows {
        for block in blocks {
            for entry in block { try body(entry.id, entry.location) }
        }
    }

    private func entry(_ number: Int) -> Entry {
        blocks[number / Self.blockSize][number % Self.blockSize]
    }

    /// The slot holding `id`, or the empty slot where it would go.
    private func find(_ id: BlobID) -> (slot: Int, entry: Int?) {
        guard !slots.isEmpty else { return (0, nil) }
        let mask = slots.count - 1
        var slot = Self.home(id, mask: mask)
        while true {
            let value = slots[slot]
            if value == 0 { return (slot, nil) }
            if entry(Int(value) - 1).id == id { return (slot, Int(value) - 1) }
            slot = (slot + 1) & mask
        }
    }

    /// Twice the slots (at least 1024), every entry placed again.
    private mutating func grow() {
        let capacity = max(1024, slots.count * 2)
        var fresh = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        var number: UInt32 = 0
        forEach { id, _ in
            number += 1
            var slot = Self.home(id, mask: mask)
            while fresh[slot] != 0 { slot = (slot + 1) & mask }
            fresh[slot] = number
        }
        slots = fresh
    }

    /// Blob ids are keyed hashes and already uniform; mixing all four words keeps ids that share a prefix
    /// (as tests make them) from piling onto one slot.
    private static func home(_ id: BlobID, mask: Int) -> Int {
        let (a, b, c, d) = id.words
        let mixed = (a ^ b.rotated(17) ^ c.rotated(31) ^ d.rotated(47)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> 32) & mask
    }
}

private extension UInt64 {
    func rotated(_ bits: UInt64) -> UInt64 { self << bits | self >> (64 - bits) }
}
