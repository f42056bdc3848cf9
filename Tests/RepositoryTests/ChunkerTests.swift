import Crypto
import Foundation
import POSIX
@testable import Repository
import Synchronization
import Testing

@Suite struct ChunkerTests {
    /// The chunker of a repository whose chunker key is the bytes 0...31.
    static let chunker = Chunker(key: SymmetricKey(data: (0..<32).map { UInt8($0) }))

    static func cuts(_ bytes: [UInt8], _ chunker: Chunker = chunker) -> [Int] {
        var lengths: [Int] = []
        var start = 0
        while start < bytes.count {
            let length = chunker.boundary(in: bytes.span.extracting(start..<min(bytes.count, start + chunker.parameters.maximum)))
            lengths.append(length)
            start += length
        }
        return lengths
    }

    /// Every chunk of `reader`: their lengths and their bytes joined.
    static func drain(_ reader: ChunkReader) throws -> (lengths: [Int], joined: Data) {
        var lengths: [Int] = []
        var joined = Data()
        while let chunk = try reader.next() {
            lengths.append(chunk.count)
            joined.append(chunk)
        }
        return (lengths, joined)
    }

    @Test("fixed vector: the gear table and the cut points of 16 MiB of SplitMix64(seed 1) under chunker key 0...31")
    func fixedBoundaries() {
        var generator = SplitMix64(seed: 1)
        let input = generator.bytes(16 << 20)
        #expect(Self.chunker.gear[0] == 0x6E89_E387_F357_5B85)
        #expect(Self.chunker.gear[255] == 0x2E7B_FF68_6471_EF44)
        #expect(Self.cuts(input) == Self.expected)
    }

    /// Cross-checked with an independent implementation written from docs/repository-format.md (Python).
    static let expected = [1_472_932, 870_830, 1_286_204, 1_090_202, 1_390_447, 1_129_263, 1_193_814, 1_605_649,
                           1_953_592, 1_073_959, 1_059_023, 1_642_464, 1_008_837]

    @Test("every chunk but the last is within the minimum and maximum; together they are the input")
    func bounds() {
        var generator = SplitMix64(seed: 2)
        let input = generator.bytes(24 << 20)
        let lengths = Self.cuts(input)
        #expect(lengths.reduce(0, +) == input.count)
        for length in lengths.dropLast() {
            #expect(length >= Chunker.Parameters.standard.minimum && length <= Chunker.Parameters.standard.maximum)
        }
        // Zeros never match the gear hash's mask: the chunker falls back to the maximum size.
        #expect(Self.cuts([UInt8](repeating: 0, count: 9 << 20)) == [4 << 20, 4 << 20, 1 << 20])
    }

    @Test("inserting bytes at the start of a 64 MiB file keeps at least 90% of its chunks")
    func insertionShift() {
        var generator = SplitMix64(seed: 3)
        let original = generator.bytes(64 << 20)
        let shifted = generator.bytes(77) + original
        func chunks(_ bytes: [UInt8]) -> Set<Data> {
            var out = Set<Data>(), start = 0
            for length in Self.cuts(bytes) {
                out.insert(Data(SHA256.hash(data: bytes[start..<(start + length)])))
                start += length
            }
            return out
        }
        let before = chunks(original), after = chunks(shifted)
        let shared = Double(before.intersection(after).count) / Double(before.count)
        #expect(shared >= 0.9, "only \(shared * 100)% of \(before.count) chunks shared")
    }

    @Test("different chunker keys cut the same input differently (chunk sizes do not fingerprint content)")
    func keyed() {
        var generator = SplitMix64(seed: 4)
        let input = generator.bytes(12 << 20)
        let other = Chunker(key: SymmetricKey(data: [UInt8](repeating: 9, count: 32)))
        #expect(Self.cuts(input) != Self.cuts(input, other))
    }

    @Test("the chunk reader yields the same chunks from a pipe as the chunker does from memory")
    func readerMatches() throws {
        var generator = SplitMix64(seed: 5)
        let input = generator.bytes(10 << 20)
        let pipe = Pipe()
        Thread.detachNewThread {
            try? pipe.fileHandleForWriting.write(contentsOf: Data(input))
            try? pipe.fileHandleForWriting.close()
        }
        let reader = ChunkReader(chunker: Self.chunker, handle: pipe.fileHandleForReading)
        let (lengths, joined) = try Self.drain(reader)
        #expect(lengths == Self.cuts(input))
        #expect(joined == Data(input))
        #expect(reader.bytesRead == Int64(input.count))
    }

    /// Sees the bytes a chunk reader reads, in order.
    final class Tap: ReadObserver {
        let seen = Mutex(Data())
        let finished = Mutex<Int64?>(nil)
        func update(_ bytes: ArraySlice<UInt8>) { seen.withLock { $0.append(contentsOf: bytes) } }
        func finish(size: Int64) { finished.withLock { $0 = size } }
    }

    @Test("the chunk reader cuts files of every size as the chunker does in memory, and its observer sees each byte once",
          arguments: [0, 1, 64 << 10, (64 << 10) + 1, 300 << 10, 9 << 20])
    func readerOverFiles(size: Int) throws {
        let scratch = Scratch()
        var generator = SplitMix64(seed: UInt64(size) + 7)
        let input = generator.bytes(size)
        scratch.write("file", Data(input))
        let handle = try #require(FileHandle(forReadingAtPath: "\(scratch.path)/file"))
        defer { try? handle.close() }
        let tap = Tap()
        let reader = ChunkReader(chunker: Self.chunker, handle: handle, observer: tap)
        let (lengths, joined) = try Self.drain(reader)
        #expect(lengths == Self.cuts(input))
        #expect(joined == Data(input))
        #expect(tap.seen.withLock { $0 } == Data(input))
        #expect(reader.bytesRead == Int64(size))
        #expect(try reader.next() == nil)
    }

    @Test("the chunk reader over bytes in memory yields the chunker's cuts")
    func readerOverMemory() throws {
        var generator = SplitMix64(seed: 11)
        let input = generator.bytes(6 << 20)
        let reader = ChunkReader(chunker: Self.chunker, data: Data(input))
        let (lengths, joined) = try Self.drain(reader)
        #expect(lengths == Self.cuts(input))
        #expect(joined == Data(input))
        #expect(reader.bytesRead == Int64(input.count))
        #expect(try ChunkReader(chunker: Self.chunker, data: Data()).next() == nil)
    }

    @Test("a read buffer keeps unconsumed bytes across reads, makes room by moving them, and reports read errors")
    func readBuffer() throws {
        let scratch = Scratch()
        let input = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        scratch.write("file", Data(input))
        let handle = try #require(FileHandle(forReadingAtPath: "\(scratch.path)/file"))
        defer { try? handle.close() }
        var buffer = ReadBuffer()
        #expect(try buffer.read(from: handle.fileDescriptor, upTo: 40_000) == 40_000)
        buffer.consume(30_000)
        #expect(try buffer.read(from: handle.fileDescriptor, upTo: 40_000) == 40_000)
        #expect(Array(buffer.unconsumed) == Array(input[30_000..<80_000]))
        buffer.consume(45_000)
        #expect(try buffer.read(from: handle.fileDescriptor, upTo: 40_000) == 20_000)
        #expect(Array(buffer.unconsumed) == Array(input[75_000..<100_000]))
        #expect(try buffer.read(from: handle.fileDescriptor, upTo: 40_000) == 0)
        #expect(buffer.available == 25_000)

        var closed = ReadBuffer()
        #expect(throws: ReadFailure.self) { try closed.read(from: -1, upTo: 16) }
    }
}
