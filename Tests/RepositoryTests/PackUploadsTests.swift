import Foundation
import POSIX
@testable import Repository
import Synchronization
import Testing

@Suite struct PackUploadsTests {
    struct Failed: Error {}

    @Test("drain waits for every upload, and no more than depth + 1 run at once (one submitter)")
    func boundedAndDrained() async throws {
        let uploads = PackUploads(depth: 1)
        let counts = Mutex((running: 0, most: 0, done: 0))
        for _ in 0..<12 {
            try await uploads.submit {
                counts.withLock { $0.running += 1; $0.most = max($0.most, $0.running) }
                try await Task.sleep(for: .milliseconds(5))
                counts.withLock { $0.running -= 1; $0.done += 1 }
            }
        }
        try await uploads.drain()
        let final = counts.withLock { $0 }
        #expect(final.done == 12 && final.running == 0)
        #expect(final.most >= 1 && final.most <= 2)
    }

    @Test("a failed upload is rethrown to a later submit or to drain, and the others still end")
    func failurePropagates() async throws {
        let uploads = PackUploads(depth: 1)
        let done = Mutex(0)
        var started = 0
        var caught = false
        do {
            try await uploads.submit { throw Failed() }
            for _ in 0..<3 {
                try await uploads.submit {
                    try await Task.sleep(for: .milliseconds(2))
                    done.withLock { $0 += 1 }
                }
                started += 1
            }
            try await uploads.drain()
        } catch is Failed {
            caught = true
        }
        #expect(caught)
        try await uploads.drain() // what was still running ends, without another error
        #expect(started >= 1 && done.withLock { $0 } == started)
    }

    @Test("a pack the backend cannot write fails the commit; no index and no snapshot name it")
    func failedPackFailsCommit() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 7)
        for i in 0..<4 { scratch.write("src/f\(i)", Data(random.bytes(300_000))) }
        let folder = scratch.sub("repo")
        _ = try await Fixture.repository(folder)
        let failing = FailingDataBackend(LocalBackend(path: folder))
        let repository = try await Repository.open(backend: failing, unlock: [.passphrase(Fixture.passphrase)])
        let writer = try await repository.beginSet(packSize: 64 << 10) // several packs, written in the background
        await #expect(throws: BackendError.self) {
            let result = try await writer.storeDirectory(at: "\(scratch.path)/src")
            _ = try await writer.commit(metadata: .object([:]), roots: ["item": .tree(result.tree)])
        }
        let backend = LocalBackend(path: folder)
        #expect(try await backend.list(prefix: "index/").isEmpty)
        #expect(try await backend.list(prefix: "snapshots/").isEmpty)
    }

    @Test("a tree is readable from the writer before its pack lands, and from the repository after")
    func treeBeforeLanding() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let tree = Tree(nodes: [Node(name: "a", type: .file, mode: 0o600, mtime: FileTime(s: 1, ns: 0), size: 0, content: [])])
        let id = try await writer.storeTree(tree)
        #expect(!repository.contains(id))
        #expect(try await writer.tree(id) == tree)
        try await writer.flush()
        #expect(repository.contains(id))
        #expect(try await writer.tree(id) == tree)
    }
}

/// A local backend whose pack writes fail.
struct FailingDataBackend: Backend {
    let inner: LocalBackend
    init(_ inner: LocalBackend) { self.inner = inner }
    var location: String { inner.location }
    func put(_ name: String, _ data: Data) async throws {
        if name.hasPrefix("data/") { throw BackendError.unavailable(location: location, detail: "disk full (test)") }
        try await inner.put(name, data)
    }
    func get(_ name: String) async throws -> Data { try await inner.get(name) }
    func get(_ name: String, offset: Int, length: Int) async throws -> Data { try await inner.get(name, offset: offset, length: length) }
    func size(_ name: String) async throws -> Int? { try await inner.size(name) }
    func list(prefix: String) async throws -> [BackendObject] { try await inner.list(prefix: prefix) }
    func delete(_ name: String) async throws { try await inner.delete(name) }
}
