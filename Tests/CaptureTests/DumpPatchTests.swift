@testable import Capture
import Foundation
import Testing

/// The dump's way into the repository when it is too large to patch: what was read is handed on before the rest.
@Suite struct DumpPatchTests {
    @Test("rejoin yields the bytes already read, then the rest of the pipe, then its end")
    func rejoin() throws {
        let pipe = Pipe()
        let rest = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        Thread {
            try? pipe.fileHandleForWriting.write(contentsOf: rest)
            try? pipe.fileHandleForWriting.close()
        }.start()
        let head = Data("head of the dump".utf8)
        let joined = PostgresSource.rejoin(head, pipe.fileHandleForReading)
        var out = Data()
        while let piece = try joined.read(upToCount: 1 << 16), !piece.isEmpty { out.append(piece) }
        #expect(out == head + rest)
    }
}
