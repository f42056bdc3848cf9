import Foundation
@testable import Repository
import Testing

/// The packed blob table behind the index must behave exactly like the dictionary it replaced.
@Suite struct BlobTableTests {
    static func randomID<G: RandomNumberGenerator>(_ rng: inout G) -> BlobID {
        BlobID(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })!
    }

    static func randomLocation<G: RandomNumberGenerator>(_ rng: inout G) -> BlobLocation {
        BlobLocation(pack: UInt32.random(in: 0..<UInt32(BlobTable.packLimit), using: &rng), offset: rng.next(),
                     storedLength: rng.next(), rawLength: rng.next(), type: Bool.random(using: &rng) ? .tree : .data,
                     compressed: Bool.random(using: &rng))
    }

    @Test("random ids: lookups, absent ids, duplicates keeping their first location and growth match a Dictionary")
    func matchesDictionary() {
        var rng = SystemRandomNumberGenerator()
        var table = BlobTable()
        var model: [BlobID: BlobLocation] = [:]
        var order: [BlobID] = []
        // Past several table doublings (1024 slots at first) and blocks (4096 entries each).
        for round in 0..<20_000 {
            let id = round % 7 == 6 && !order.isEmpty ? order.randomElement(using: &rng)! : Self.randomID(&rng)
            let location = Self.randomLocation(&rng)
            let added = table.insert(id, location)
            #expect(added == (model[id] == nil))
            if model[id] == nil {
                model[id] = location
                order.append(id)
            }
        }
        #expect(table.count == model.count)
        for (id, location) in model { #expect(table.location(id) == location) }
        for _ in 0..<2_000 {
            let absent = Self.randomID(&rng)
            #expect(table.location(absent) == model[absent])
        }
        var seen: [BlobID] = []
        table.forEach { id, location in
            seen.append(id)
            #expect(model[id] == location)
        }
        #expect(seen == order, "every blob once, in the order added")
    }

    @Test("an empty table finds nothing; extreme values and every type/compression pair round-trip")
    func extremes() throws {
        var table = BlobTable()
        let id = BlobID(bytes: [UInt8](repeating: 0xAB, count: 32))!
        #expect(table.location(id) == nil)
        #expect(table.count == 0)
        let locations = [BlobType.data, .tree].flatMap { type in [false, true].map { compressed in
            BlobLocation(pack: UInt32(BlobTable.packLimit - 1), offset: .max, storedLength: .max, rawLength: 0, type: type,
                         compressed: compressed)
        } }
        for (n, location) in locations.enumerated() {
            let other = BlobID(bytes: [UInt8](repeating: UInt8(n), count: 32))!
            let added = table.insert(other, location)
            #expect(added)
            #expect(table.location(other) == location)
        }
        let added = table.insert(id, BlobLocation(pack: 0, offset: 0, storedLength: 0, rawLength: 0, type: .data, compressed: false))
        #expect(added)
        #expect(table.location(id)?.pack == 0)
        #expect(table.count == 5)
    }

    @Test("ids that differ only in their last byte, or only in their first, are told apart")
    func sharedPrefixes() {
        var table = BlobTable()
        for last in 0...255 {
            var bytes = [UInt8](repeating: 7, count: 32)
            bytes[31] = UInt8(last)
            let added = table.insert(BlobID(bytes: bytes)!, BlobLocation(pack: UInt32(last), offset: 1, storedLength: 2,
                                                                          rawLength: 3, type: .data, compressed: false))
            #expect(added)
            bytes[31] = 7
            bytes[0] = UInt8(last)
            table.insert(BlobID(bytes: bytes)!, BlobLocation(pack: 1000 + UInt32(last), offset: 1, storedLength: 2, rawLength: 3,
                                                             type: .tree, compressed: true))
        }
        #expect(table.count == 511, "the id of all sevens is in both series")
        for last in 0...255 {
            var bytes = [UInt8](repeating: 7, count: 32)
            bytes[31] = UInt8(last)
            #expect(table.location(BlobID(bytes: bytes)!)?.pack == UInt32(last))
        }
    }

    @Test("a copy is independent of the original (the index is a value behind the repository's lock)")
    func valueSemantics() {
        var rng = SystemRandomNumberGenerator()
        var table = BlobTable()
        let first = Self.randomID(&rng)
        table.insert(first, Self.randomLocation(&rng))
        var copy = table
        var added: [BlobID] = []
        for _ in 0..<5_000 {
            let id = Self.randomID(&rng)
            copy.insert(id, Self.randomLocation(&rng))
            added.append(id)
        }
        #expect(table.count == 1 && copy.count == 5_001)
        #expect(added.allSatisfy { table.location($0) == nil && copy.location($0) != nil })
        #expect(table.location(first) == copy.location(first))
    }

    @Test("the index keeps a blob's first pack and lists every blob under its pack")
    func indexByPack() {
        var rng = SystemRandomNumberGenerator()
        let packA = Self.randomID(&rng), packB = Self.randomID(&rng)
        var entries: [PackEntry] = []
        for n in 0..<3 {
            let type: BlobType = n == 0 ? .tree : .data
            let stored = UInt32(100 + n), raw = UInt32(90 + n), offset = UInt32(n * 100)
            entries.append(PackEntry(type: type, compressed: n == 1, storedLength: stored, rawLength: raw, offset: offset,
                                     id: Self.randomID(&rng)))
        }
        var index = BlobIndex()
        index.add(pack: packA, entries: entries)
        let again = PackEntry(type: .data, compressed: false, storedLength: 5, rawLength: 5, offset: 0, id: entries[1].id)
        let fresh = PackEntry(type: .data, compressed: false, storedLength: 6, rawLength: 6, offset: 5, id: Self.randomID(&rng))
        index.add(pack: packB, entries: [again, fresh])
        #expect(index.blobCount == 4)
        #expect(index.location(entries[1].id).map { index.pack($0.pack) } == packA)
        #expect(index.contains(pack: packB))
        let byPack = index.entriesByPack()
        #expect(byPack[packA] == entries)
        #expect(byPack[packB] == [fresh])
    }
}
