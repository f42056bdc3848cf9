import Crypto
import Foundation
import POSIX

/// FastCDC content-defined chunking with normalized chunking (level 2) over a keyed Gear hash.
///
/// Cut points depend only on the last 64 bytes before them, so an insertion early in a file moves only the
/// chunks around it. The gear table comes from the repository's chunker key (docs/repository-format.md).
public struct Chunker: Sendable {
    public struct Parameters: Sendable, Equatable, Codable {
        public var minimum: Int
        public var average: Int
        public var maximum: Int

        public init(minimum: Int, average: Int, maximum: Int) {
            precondition(minimum < average && average < maximum && average.nonzeroBitCount == 1)
            self.minimum = minimum
            self.average = average
            self.maximum = maximum
        }

        /// 256 KiB / 1 MiB / 4 MiB.
        public static let standard = Parameters(minimum: 256 << 10, average: 1 << 20, maximum: 4 << 20)
    }

    public let parameters: Parameters
    let gear: [UInt64]
    private let maskSmall: UInt64
    private let maskLarge: UInt64

    public init(gear: [UInt64], parameters: Parameters = .standard) {
        precondition(gear.count == 256)
        self.gear = gear
        self.parameters = parameters
        let bits = parameters.average.trailingZeroBitCount
        // Normalized chunking level 2: harder to cut before the average, easier after; top bits of the hash.
        maskSmall = ~UInt64(0) << (64 - (bits + 2))
        maskLarge = ~UInt64(0) << (64 - (bits - 2))
    }

    /// The chunker of a repository: gear entry i = first 8 bytes of HMAC-SHA256(key, "valkyrie gear" || i).
    public init(key: SymmetricKey, parameters: Parameters = .standard) {
        let gear = (0..<256).map { i -> UInt64 in
            let mac = HMAC<SHA256>.authenticationCode(for: Data("valkyrie gear".utf8) + [UInt8(i)], using: key)
            return mac.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.init(gear: gear, parameters: parameters)
    }

    /// The length of the first chunk of `bytes`. `bytes` must hold at least `maximum` bytes unless it is the
    /// end of the input.
    public func boundary(in bytes: Span<UInt8>) -> Int {
        let count = bytes.count
        if count <= parameters.minimum { return count }
        let limit = min(count, parameters.maximum)
        let normal = min(limit, parameters.average)
        let table = gear.span
        var hash: UInt64 = 0
        var i = parameters.minimum
        while i < normal {
            hash = (hash << 1) &+ table[Int(bytes[i])]
            if hash & maskSmall == 0 { return i + 1 }
            i += 1
        }
        while i < limit {
            hash = (hash << 1) &+ table[Int(bytes[i])]
            if hash & maskLarge == 0 { return i + 1 }
            i += 1
        }
        return limit
    }
}

/// Reads a file, a pipe or bytes in memory and yields their content-defined chunks in order.
///
/// A file or pipe is read straight into one reused buffer (`ReadBuffer`), in reads that start small (most files
/// are) and double while they come back full, up to the chunker's maximum; each chunk is copied out once.
public final class ChunkReader {
    private let chunker: Chunker
    /// The open file or pipe (nil for bytes in memory); kept so its descriptor stays open.
    private let handle: FileHandle?
    private let observer: (any ReadObserver)?
    private var buffer = ReadBuffer()
    /// In-memory input, and where its next chunk starts.
    private var memory: [UInt8]
    private var memoryStart = 0
    private var readSize = 64 << 10
    private var atEnd = false
    /// Bytes read so far.
    public private(set) var bytesRead: Int64 = 0

    /// `observer` sees every byte read, in order.
    public init(chunker: Chunker, handle: FileHandle, observer: (any ReadObserver)? = nil) {
        self.chunker = chunker
        self.handle = handle
        self.observer = observer
        memory = []
    }

    public init(chunker: Chunker, data: Data) {
        self.chunker = chunker
        handle = nil
        observer = nil
        memory = [UInt8](data)
        bytesRead = Int64(data.count)
        atEnd = true
    }

    /// The next chunk, or nil at the end of the input.
    public func next() throws -> Data? {
        guard handle != nil else { return nextInMemory() }
        try fill()
        if buffer.available == 0 { return nil }
        let length = buffer.withUnconsumed { chunker.boundary(in: $0) }
        let chunk = Data(buffer.bytes[buffer.start..<(buffer.start + length)])
        buffer.consume(length)
        return chunk
    }

    private func nextInMemory() -> Data? {
        if memoryStart == memory.count { return nil }
        let rest = memoryStart..<memory.count
        let length = chunker.boundary(in: memory.span.extracting(rest))
        defer { memoryStart += length }
        return Data(memory[memoryStart..<(memoryStart + length)])
    }

    /// Reads until a whole maximum-size chunk is buffered or the input ends.
    private func fill() throws {
        guard let handle else { return }
        let want = chunker.parameters.maximum
        while !atEnd && buffer.available < want {
            let count = try buffer.read(from: handle.fileDescriptor, upTo: readSize)
            if count == 0 {
                atEnd = true
                break
            }
            bytesRead += Int64(count)
            observer?.update(buffer.bytes[(buffer.end - count)..<buffer.end])
            if count == readSize { readSize = min(readSize * 2, want) }
        }
    }
}
