import Foundation
import Repository
import Testing

/// What only the local folder backend does (the rest is BackendConformanceTests): its listing walks the
/// folder with lstat.
@Suite struct LocalBackendTests {
    @Test("listing names nested objects with size and mtime, and leaves out writers' temp files, folders and symlinks")
    func listing() async throws {
        let scratch = Scratch()
        let backend = LocalBackend(path: scratch.path)
        try await backend.put("data/ab/ab01", Data(count: 70))
        try await backend.put("data/cd/cd02", Data(count: 5))
        try await backend.put("index/0f", Data(count: 12))
        scratch.write("data/ab/.tmp-killed-writer", Data(count: 4096))
        _ = scratch.sub("data/ef")
        try FileManager.default.createSymbolicLink(atPath: "\(scratch.path)/data/cd/link", withDestinationPath: "cd02")
        let stamp = Date(timeIntervalSince1970: 1_790_000_000)
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: "\(scratch.path)/data/ab/ab01")

        let data = try await backend.list(prefix: "data/")
        #expect(data.map(\.name) == ["data/ab/ab01", "data/cd/cd02"])
        #expect(data.map(\.size) == [70, 5])
        #expect(data[0].modified == stamp)
        #expect(try await backend.list(prefix: "data/c").map(\.name) == ["data/cd/cd02"])
        #expect(try await backend.list(prefix: "").map(\.name) == ["data/ab/ab01", "data/cd/cd02", "index/0f"])
        #expect(try await backend.list(prefix: "missing/").isEmpty)
        #expect(try await backend.size("data/ab/ab01") == 70)
        #expect(try await backend.size("data/ab/none") == nil)
    }
}
