import Crypto
import Foundation
@testable import Repository
import Testing

/// The pack and index layouts of docs/repository-format.md, byte for byte.
@Suite struct PackFormatTests {
    static let id = BlobID(bytes: (0..<32).map { UInt8($0) })!
    static let entry = PackEntry(type: .tree, compressed: true, storedLength: 0x0102_0304, rawLength: 0x0A0B_0C0D,
                                 offset: 0x1122_3344, id: id)

    @Test("a header entry is type, compression, stored length, raw length, offset (UInt32 LE) and the id: 46 bytes")
    func entryVector() throws {
        var out = Data()
        Self.entry.encode(into: &out)
        #expect(out.hex == "0101" + "04030201" + "0d0c0b0a" + "44332211" + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        #expect(try PackEntry.decode([UInt8](out), at: 0) == Self.entry)
        // The associated data of a blob is its entry with the offset zeroed.
        #expect(Self.entry.associatedData.hex == "0101" + "04030201" + "0d0c0b0a" + "00000000" + Self.id.hex)
    }

    @Test("bad type or compression bytes and short input are refused")
    func entryRejects() {
        var out = Data()
        Self.entry.encode(into: &out)
        var badType = out
        badType[0] = 7
        #expect(throws: FormatError.badEntry) { try PackEntry.decode([UInt8](badType), at: 0) }
        var badFlag = out
        badFlag[1] = 2
        #expect(throws: FormatError.badEntry) { try PackEntry.decode([UInt8](badFlag), at: 0) }
        #expect(throws: FormatError.truncated) { try PackEntry.decode([UInt8](out.prefix(45)), at: 0) }
    }

    @Test("a pack is blobs, sealed header, header length and VKP1; its header alone rebuilds the entries")
    func packLayout() throws {
        let key = MasterKey.generate()
        var blobs = Data(), entries: [PackEntry] = []
        for (i, text) in ["first blob", "second, longer blob of bytes"].enumerated() {
            let plain = Data(text.utf8)
            var entry = PackEntry(type: .data, compressed: false, storedLength: UInt32(plain.count + Sealing.overhead),
                                  rawLength: UInt32(plain.count), offset: UInt32(blobs.count), id: key.blobID(plain))
            entry.offset = UInt32(blobs.count)
            blobs.append(try key.seal(plain, associatedData: entry.associatedData))
            entries.append(entry)
            #expect(i == entries.count - 1)
        }
        let pack = try PackFormat.finish(blobs: blobs, entries: entries, key: key)
        #expect(pack.suffix(4) == Data("VKP1".utf8))
        let headerLength = try PackFormat.headerLength(trailer: pack.suffix(8))
        #expect(headerLength == 2 * PackEntry.size + Sealing.overhead)
        #expect(pack.count == blobs.count + headerLength + 8)
        let sealedHeader = pack.subdata(in: blobs.count..<(blobs.count + headerLength))
        let parsed = try PackFormat.entries(sealedHeader: sealedHeader, key: key)
        #expect(parsed == entries)
        // Each blob opens with its entry as associated data, and only with it.
        for entry in parsed {
            let stored = pack.subdata(in: Int(entry.offset)..<Int(entry.offset + entry.storedLength))
            #expect(key.blobID(try key.open(stored, associatedData: entry.associatedData)) == entry.id)
            var other = entry
            other.type = .tree
            #expect(throws: SealingError.self) { try key.open(stored, associatedData: other.associatedData) }
        }
        // Another repository's key cannot read the header.
        #expect(throws: SealingError.self) { try PackFormat.entries(sealedHeader: sealedHeader, key: MasterKey.generate()) }
        #expect(throws: FormatError.badTrailer) { try PackFormat.headerLength(trailer: Data("12345678".utf8)) }
    }

    @Test("an index file is, per pack, its id, the entry count and the entries; it round-trips")
    func indexFile() throws {
        let pack = BlobID.sha256(Data("pack".utf8))
        let encoded = IndexFile.encode([(pack, [Self.entry, Self.entry])])
        #expect(encoded.count == 32 + 4 + 2 * 46)
        #expect(encoded.prefix(36).hex == pack.hex + "02000000")
        let decoded = try IndexFile.decode(encoded)
        #expect(decoded.count == 1 && decoded[0].id == pack && decoded[0].entries == [Self.entry, Self.entry])
        #expect(throws: FormatError.self) { try IndexFile.decode(encoded.prefix(50)) }
    }

    @Test("packs are named data/<first two hex digits>/<SHA-256 of the pack>")
    func packName() {
        #expect(PackFormat.name(Self.id) == "data/00/" + Self.id.hex)
    }

    @Test("compression is skipped for incompressible data and used for compressible data")
    func compressionSkip() throws {
        var generator = SplitMix64(seed: 7)
        let random = Data(generator.bytes(200_000))
        #expect(try BlobCompression.pack(random).compressed == false)
        #expect(try BlobCompression.sampleCompresses(random) == false)
        let text = Data(String(repeating: "vault key rotation log line\n", count: 8000).utf8)
        let packed = try BlobCompression.pack(text)
        #expect(packed.compressed && packed.bytes.count < text.count / 10)
        #expect(try BlobCompression.unpack(packed.bytes, compressed: true, rawLength: text.count) == text)
    }
}
