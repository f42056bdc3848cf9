#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Bytes read from a file descriptor into one buffer that is reused from read to read: the unconsumed bytes are
/// `bytes[start..<end]`. Each `read` is one `read(2)` of up to the size asked, straight into the buffer.
///
/// Foundation's `FileHandle.read(upToCount:)` reads a regular file in `st_blksize` pieces (4 KiB on ext4) into a
/// buffer it reallocates as it doubles, then hands back a new allocation: a gigabyte took 260,000 system calls
/// and copied and page-faulted every byte more than once.
public struct ReadBuffer {
    public private(set) var bytes: [UInt8] = []
    public private(set) var start = 0
    public private(set) var end = 0

    public init() {}

    /// Bytes read and not yet consumed.
    public var available: Int { end - start }

    /// The unconsumed bytes.
    public var unconsumed: ArraySlice<UInt8> { bytes[start..<end] }

    /// Calls `body` with the unconsumed bytes.
    public func withUnconsumed<R>(_ body: (Span<UInt8>) throws -> R) rethrows -> R {
        try body(bytes.span.extracting(start..<end))
    }

    /// Marks `count` bytes at `start` as used.
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= available)
        start += count
    }

    /// Reads up to `count` bytes after `end` with one `read(2)` (again after EINTR); returns how many (0 at the
    /// end of the input). Unconsumed bytes move to the front, or the buffer grows, to make room.
    public mutating func read(from descriptor: Int32, upTo count: Int) throws -> Int {
        precondition(count > 0)
        if bytes.count - end < count {
            let kept = available
            if start > 0 {
                bytes.withUnsafeMutableBytes { raw in
                    if kept > 0 { memmove(raw.baseAddress!, raw.baseAddress! + start, kept) }
                }
                (start, end) = (0, kept)
            }
            if bytes.count - end < count { bytes.append(contentsOf: repeatElement(0, count: end + count - bytes.count)) }
        }
        let offset = end
        while true {
            let n = bytes.withUnsafeMutableBytes { raw in Glibc.read(descriptor, raw.baseAddress! + offset, count) }
            if n >= 0 {
                end += n
                return n
            }
            guard errno == EINTR else { throw ReadFailure(code: errno) }
        }
    }
}

/// A `read(2)` that failed, with its errno.
public struct ReadFailure: Error, LocalizedError, CustomStringConvertible {
    public var code: Int32

    public var description: String { "read failed: \(String(cString: strerror(code)))" }
    public var errorDescription: String? { description }
}
