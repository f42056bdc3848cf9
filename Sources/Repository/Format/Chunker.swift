import Crypto
import Foundation

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
public final class ChunkReader {
    private let chunker: Chunker
    /// Up to the given number of bytes, or nil or empty at the end.
    private let source: (Int) throws -> Data?
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// Bytes read so far.
    public private(set) var bytesRead: Int64 = 0

    /// `observer` sees every byte read, in order.
    public init(chunker: Chunker, handle: FileHandle, observer: (any ReadObserver)? = nil) {
        self.chunker = chunker
        self.source = { count in
            let data = try handle.read(upToCount: count)
            if let data, let observer { observer.update(data) }
            return data
        }
    }

    public init(chunker: Chunker, data: Data) {
        self.chunker = chunker
        var rest = data[...]
        self.source = { count in
            defer { rest = rest.dropFirst(count) }
            return Data(rest.prefix(count))
        }
    }

    /// The next chunk, or nil at the end of the input.
    public func next() throws -> Data? {
        try fill()
        if start == buffer.count { return nil }
        let length = chunker.boundary(in: buffer.span.extracting(start..<buffer.count))
        let chunk = Data(buffer[start..<(start + length)])
        start += length
        return chunk
    }

    private func fill() throws {
        let want = chunker.parameters.maximum
        while !atEnd && buffer.count - start < want {
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            guard let data = try source(max(want, 8 << 20)), !data.isEmpty else {
                atEnd = true
                break
            }
            bytesRead += Int64(data.count)
            buffer.append(contentsOf: data)
        }
    }
}
