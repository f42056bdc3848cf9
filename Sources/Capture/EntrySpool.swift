import Foundation
import Support
import Synchronization

/// Records (a set's index entries) appended to a temporary file as they are made and read back in order, so a
/// set of a million files does not hold a million entries in memory until the catalog takes them.
///
/// The file is a `TemporaryFile`: it has no name and is gone with the process. It holds paths and metadata of
/// the host's files, never key material.
final class EntrySpool: Sendable {
    private struct State {
        let handle: FileHandle
        var buffer = Data()
        /// Bytes already in the file.
        var written: UInt64 = 0
    }

    private let state: Mutex<State>
    static let bufferSize = 1 << 20

    init() throws {
        state = Mutex(State(handle: try TemporaryFile.open()))
    }

    /// Where the next record starts.
    var position: UInt64 { state.withLock { $0.written + UInt64($0.buffer.count) } }

    /// Appends one record.
    func append(_ record: Data) throws {
        try state.withLock { state in
            state.buffer.appendWord(UInt32(record.count))
            state.buffer.append(record)
            if state.buffer.count >= Self.bufferSize { try Self.flush(&state) }
        }
    }

    /// Calls `visit` with every record between `range`'s bounds (positions from `position`), in order.
    func read(_ range: Range<UInt64>, _ visit: (Data) throws -> Void) throws {
        var offset = range.lowerBound
        var pending = Data()
        while offset < range.upperBound || !pending.isEmpty {
            if offset < range.upperBound {
                let length = Int(min(UInt64(Self.bufferSize), range.upperBound - offset))
                let chunk = try state.withLock { state in
                    try Self.flush(&state)
                    try state.handle.seek(toOffset: offset)
                    return try state.handle.read(upToCount: length) ?? Data()
                }
                guard !chunk.isEmpty else { throw Self.damaged }
                offset += UInt64(chunk.count)
                pending.append(chunk)
            }
            var start = pending.startIndex
            while pending.endIndex - start >= 4 {
                let length = Int(pending.word(at: start))
                guard pending.endIndex - start - 4 >= length else { break }
                try visit(pending[(start + 4)..<(start + 4 + length)])
                start += 4 + length
            }
            guard start > pending.startIndex || offset < range.upperBound else {
                throw Self.damaged
            }
            pending = Data(pending[start...])
        }
    }

    /// The spool read back is not what was written (its unnamed file lives only as long as this backup).
    static let damaged = OperatorError.failed("the backup's temporary index file (its set's entry list) reads back cut short",
                                              remedy: "check the temporary folder (TMPDIR) for free space and disk errors, and back up again")

    private static func flush(_ state: inout State) throws {
        guard !state.buffer.isEmpty else { return }
        try state.handle.seek(toOffset: state.written)
        try state.handle.write(contentsOf: state.buffer)
        state.written += UInt64(state.buffer.count)
        state.buffer.removeAll(keepingCapacity: true)
    }
}

/// Fields of a record, written and read in the same order.
struct RecordWriter {
    private(set) var data = Data()

    mutating func string(_ value: String) {
        let bytes = Data(value.utf8)
        data.appendWord(UInt32(bytes.count))
        data.append(bytes)
    }

    mutating func optionalString(_ value: String?) {
        data.append(value == nil ? 0 : 1)
        if let value { string(value) }
    }

    mutating func int(_ value: Int64) {
        data.appendWord(UInt32(truncatingIfNeeded: UInt64(bitPattern: value)))
        data.appendWord(UInt32(truncatingIfNeeded: UInt64(bitPattern: value) >> 32))
    }

    mutating func optionalInt(_ value: Int64?) {
        data.append(value == nil ? 0 : 1)
        if let value { int(value) }
    }
}

struct RecordReader {
    private let data: Data
    private var position: Data.Index

    init(_ data: Data) {
        self.data = data
        position = data.startIndex
    }

    mutating func string() throws -> String {
        let length = Int(try word())
        try need(length)
        defer { position += length }
        return String(decoding: data[position..<(position + length)], as: UTF8.self)
    }

    mutating func optionalString() throws -> String? {
        try flag() ? try string() : nil
    }

    mutating func int() throws -> Int64 {
        let low = UInt64(try word()), high = UInt64(try word())
        return Int64(bitPattern: high << 32 | low)
    }

    mutating func optionalInt() throws -> Int64? {
        try flag() ? try int() : nil
    }

    private mutating func flag() throws -> Bool {
        try need(1)
        defer { position += 1 }
        return data[position] != 0
    }

    private mutating func word() throws -> UInt32 {
        try need(4)
        defer { position += 4 }
        return data.word(at: position)
    }

    private func need(_ count: Int) throws {
        guard data.endIndex - position >= count else { throw EntrySpool.damaged }
    }
}

private extension Data {
    /// Little-endian, as the repository's own formats.
    mutating func appendWord(_ value: UInt32) {
        append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }

    func word(at index: Index) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[index + $1]) << (8 * $1) }
    }
}
