import Foundation
import POSIX
@testable import Repository
import Synchronization
import Testing

@Suite struct ArchiverTests {
    @Test("with a parent tree, unchanged files are not re-read and a changed one is")
    func parentSkipsUnchanged() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 41)
        for i in 0..<5 { scratch.write("src/dir/file\(i)", Data(random.bytes(50_000))) }
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let (first, firstRun, _) = try await Fixture.backup(repository, "\(scratch.path)/src")
        #expect(firstRun.progress.unchangedFiles == 0 && firstRun.progress.files == 5)
        scratch.write("src/dir/file3", Data(random.bytes(50_000)))
        guard case let .tree(parent) = first.snapshot.roots["item"] else { return }
        let (_, second, stats) = try await Fixture.backup(repository, "\(scratch.path)/src", parent: parent)
        #expect(second.progress.unchangedFiles == 4 && second.progress.files == 5)
        #expect(second.progress.bytesRead == 50_000)
        #expect(stats.newBlobs == 1 + 2) // the changed file, its folder's tree, the root tree
    }

    @Test("the exclude predicate leaves out matching paths")
    func exclude() async throws {
        let scratch = Scratch()
        scratch.write("src/keep.txt", Data("k".utf8))
        scratch.write("src/.cache/skip.txt", Data("s".utf8))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let result = try await writer.storeDirectory(at: "\(scratch.path)/src",
                                                     options: ArchiveOptions(exclude: { path, _ in path == ".cache" }))
        try await writer.flush() // blobs are readable once their pack has landed
        #expect(try await repository.tree(result.tree).nodes.map(\.name) == ["keep.txt"])
    }

    @Test("the writer reads its trees for indexing without filling the cache; other reads still cache")
    func writerTreesBypassTheCache() async throws {
        let scratch = Scratch()
        scratch.write("src/a/one.txt", Data("1".utf8))
        scratch.write("src/b/two.txt", Data("2".utf8))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let result = try await writer.storeDirectory(at: "\(scratch.path)/src")
        try await writer.flush() // the trees now come from the backend, not the open pack
        let root = try await writer.tree(result.tree)
        #expect(root.nodes.map(\.name) == ["a", "b"])
        #expect(repository.cache[result.tree] == nil)
        let sub = try #require(root.nodes[0].subtree)
        #expect(try await writer.tree(sub).nodes.map(\.name) == ["one.txt"])
        #expect(repository.cache[sub] == nil)
        // An ordinary read caches, and an uncached read of a cached blob is served from the cache.
        #expect(try await repository.tree(result.tree) == root)
        #expect(repository.cache[result.tree] != nil)
        #expect(try await repository.tree(result.tree, caching: false) == root)
    }

    @Test("progress is reported while files are read")
    func progress() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 42)
        scratch.write("src/a", Data(random.bytes(700_000)))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let seen = Mutex(Int64(0))
        _ = try await writer.storeDirectory(at: "\(scratch.path)/src", options: ArchiveOptions(progress: { progress in
            seen.withLock { $0 = max($0, progress.bytesRead) }
        }))
        #expect(seen.withLock { $0 } == 700_000)
    }
}

@Suite struct ReadObserverTests {
    /// Collects what it is shown, per file.
    final class Collector: Sendable {
        let seen = Mutex([String: (bytes: Data, finished: Int64?)]())
        func observer(_ path: String) -> any ReadObserver { Tap(path: path, owner: self) }
        struct Tap: ReadObserver {
            let path: String
            let owner: Collector
            func update(_ bytes: ArraySlice<UInt8>) { owner.seen.withLock { $0[path, default: (Data(), nil)].bytes.append(contentsOf: bytes) } }
            func finish(size: Int64) { owner.seen.withLock { $0[path, default: (Data(), nil)].finished = size } }
        }
    }

    @Test("an observer sees every byte of each file read, in order, and files taken from the parent are not read")
    func observesReads() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 43)
        let big = Data(random.bytes(9 << 20)) // more than one read of the chunk reader
        scratch.write("src/big", big)
        scratch.write("src/sub/small", Data("small".utf8))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let first = Collector()
        let writer = try await repository.beginSet()
        let result = try await writer.storeDirectory(at: "\(scratch.path)/src", options: ArchiveOptions(observe: { first.observer($0) }))
        _ = try await writer.commit(metadata: .object([:]), roots: ["item": .tree(result.tree)])
        let seen = first.seen.withLock { $0 }
        #expect(seen["big"]?.bytes == big && seen["big"]?.finished == Int64(big.count))
        #expect(seen["sub/small"]?.bytes == Data("small".utf8) && seen["sub/small"]?.finished == 5)

        let second = Collector()
        let again = try await repository.beginSet()
        _ = try await again.storeDirectory(at: "\(scratch.path)/src", options: ArchiveOptions(parent: result.tree, observe: { second.observer($0) }))
        #expect(second.seen.withLock { $0 }.isEmpty)
    }
}
