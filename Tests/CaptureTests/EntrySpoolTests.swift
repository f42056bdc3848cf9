@testable import Capture
import Foundation
import Support
import Testing

/// The temporary file a set's index entries wait in: records come back whole, in order, by range.
@Suite struct EntrySpoolTests {
    @Test("records of every size, across the write buffer and the read chunks, come back byte for byte by range")
    func roundTrip() throws {
        let spool = try EntrySpool()
        var rng = SystemRandomNumberGenerator()
        var records: [Data] = []
        var bounds: [UInt64] = [spool.position]
        // Empty records, small ones, and some longer than the 1 MiB buffer, so records straddle every boundary.
        for n in 0..<3_000 {
            let size = n % 1000 == 999 ? EntrySpool.bufferSize + 17 : n % 50 == 0 ? 0 : Int.random(in: 1...900, using: &rng)
            let record = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
            try spool.append(record)
            records.append(record)
            bounds.append(spool.position)
        }
        var all: [Data] = []
        try spool.read(bounds[0]..<bounds[records.count]) { all.append(Data($0)) }
        #expect(all == records)
        var middle: [Data] = []
        try spool.read(bounds[1000]..<bounds[2001]) { middle.append(Data($0)) }
        #expect(middle == Array(records[1000...2000]))
        var none = 0
        try spool.read(bounds[5]..<bounds[5]) { _ in none += 1 }
        #expect(none == 0)
    }

    @Test("a range that ends inside a record, or past the file's end, fails naming the spool and what to do")
    func cutShort() throws {
        let spool = try EntrySpool()
        try spool.append(Data(repeating: 7, count: 100))
        let end = spool.position
        for range in [0..<(end - 10), 0..<(end + 10)] {
            let error = #expect(throws: OperatorError.self) { try spool.read(range) { _ in } }
            #expect(error?.problem.contains("temporary index file") == true && error?.remedy?.contains("TMPDIR") == true)
        }
    }

    @Test("a temporary file has no name from the start: nothing can be left in the temporary folder")
    func leavesNothing() throws {
        let handle = try TemporaryFile.open()
        defer { try? handle.close() }
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(handle.fileDescriptor)")
        #expect(target.hasSuffix(" (deleted)"), "\(target)")
        try handle.write(contentsOf: Data("/etc/vaulthalla/config.yaml".utf8))
        try handle.seek(toOffset: 0)
        #expect(try handle.readToEnd() == Data("/etc/vaulthalla/config.yaml".utf8))
    }

    @Test("fields round-trip, and a cut record is refused")
    func fields() throws {
        var writer = RecordWriter()
        writer.string("/var/lib/vaulthalla/über file")
        writer.optionalString(nil)
        writer.optionalString("")
        writer.int(-1)
        writer.int(Int64.min)
        writer.optionalInt(nil)
        writer.optionalInt(1 << 40)
        var reader = RecordReader(writer.data)
        #expect(try reader.string() == "/var/lib/vaulthalla/über file")
        #expect(try reader.optionalString() == nil)
        #expect(try reader.optionalString() == "")
        #expect(try reader.int() == -1)
        #expect(try reader.int() == Int64.min)
        #expect(try reader.optionalInt() == nil)
        #expect(try reader.optionalInt() == 1 << 40)
        #expect(throws: OperatorError.self) {
            var cut = RecordReader(writer.data.prefix(10))
            _ = try cut.string()
        }
    }
}
