import Foundation
import POSIX
@testable import Repository
import Support
import Synchronization
import Testing

/// `SetWriter.storeStream(_:patchingOn:)`, the one way the dump and the vault index become patches, and the
/// catalog references (`NodeReference`) that carry a single-file root's patch base to every reader.
@Suite struct PatchedStreamTests {
    /// A file handle reading `data` (a temporary file, as the vault index is written).
    static func handle(_ data: Data, in scratch: Scratch) throws -> FileHandle {
        let path = "\(scratch.path)/\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw CancellationError() }
        return try #require(FileHandle(forReadingAtPath: path))
    }

    /// Day `n` of a dump-like file: the rows of day 0 with every 997th row (from `n`) changed and `n` rows added.
    static func day(_ n: Int) -> Data {
        var lines = (0..<40_000).map { "row \($0)\tvalue \($0 &* 2_654_435_761 % 1_000_003)\n" }
        if n > 0 { for i in stride(from: n, to: lines.count, by: 997) { lines[i] = "row \(i)\tchanged on day \(n)\n" } }
        return Data((lines.joined() + (0..<n).map { "row new \($0)\n" }.joined()).utf8)
    }

    @Test("a chain of days, streamed or from memory: each a patch on the first day's file (the base, never a patch), read back exactly, also after prune")
    func chain() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        var previous: Node?, firstContent: [BlobID]?
        var stored: [(id: BlobID, file: Data)] = []
        for n in 0..<4 {
            let writer = try await repository.beginSet()
            let file = Self.day(n)
            // Streamed (the dump, the vault index) or from memory (the S3 object list): the same patches.
            let node = n == 2 ? try await writer.storeFile(file, patchingOn: previous, name: "index.jsonl")
                              : try await writer.storeStream(try Self.handle(file, in: scratch), patchingOn: previous, name: "index.jsonl")
            #expect(node.size == Int64(file.count))
            let committed = try await writer.commit(metadata: .null, roots: ["index": .file(node)])
            if n == 0 {
                #expect(node.patchBase == nil)
                firstContent = node.content
            } else {
                #expect(node.patchBase == firstContent, "day \(n) patches the first day's file")
                let patchBytes = try (node.content ?? []).reduce(0) { $0 + (try #require(repository.rawLength($1))) }
                #expect(patchBytes * 15 < file.count, "a patch of \(patchBytes) bytes for \(file.count)")
            }
            stored.append((committed.id, file))
            previous = node
        }
        // The base's own set forgotten: prune keeps its blobs for the patches.
        try await repository.removeSnapshot(stored[0].id)
        _ = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune()
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        for (id, file) in stored.dropFirst() {
            guard case let .file(node)? = try await reopened.snapshot(id).roots["index"] else { throw CancellationError() }
            #expect(try await reopened.read(node, offset: 0, length: Int(node.size)) == file)
        }
        let report = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(report.isClean, "\(report.problems)")
    }

    @Test("stored whole: no previous file, a version 1 repository, a file that changed too much, a base that is gone")
    func whole() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let firstWriter = try await repository.beginSet()
        let first = try await firstWriter.storeStream(try Self.handle(Self.day(0), in: scratch), patchingOn: nil, name: "f")
        #expect(first.patchBase == nil)
        _ = try await firstWriter.commit(metadata: .null, roots: ["f": .file(first)])
        let writer = try await repository.beginSet()
        var random = SplitMix64(seed: 5)
        let unrelated = Data((0..<300_000).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        let changed = try await writer.storeStream(try Self.handle(unrelated, in: scratch), patchingOn: first, name: "f")
        #expect(changed.patchBase == nil && changed.size == Int64(unrelated.count))
        #expect(try await writer.storeFile(unrelated, patchingOn: first, name: "f").patchBase == nil)
        var gone = first
        gone.content = [BlobID.sha256(Data("not stored".utf8))]
        let unreadable = try await writer.storeStream(try Self.handle(Self.day(1), in: scratch), patchingOn: gone, name: "f")
        #expect(unreadable.patchBase == nil)
        _ = try await writer.commit(metadata: .null, roots: ["changed": .file(changed), "unreadable": .file(unreadable)])
        #expect(try await repository.read(unreadable, offset: 0, length: Int(unreadable.size)) == Self.day(1))

        let v1 = try await Repository.initialize(backend: LocalBackend(path: scratch.sub("v1")),
                                                 slot: .passphrase(Fixture.passphrase, cost: .interactive), label: "test", version: 1)
        let oldWriter = try await v1.beginSet()
        let base = try await oldWriter.storeFile(Self.day(0), name: "f")
        let next = try await oldWriter.storeStream(try Self.handle(Self.day(1), in: scratch), patchingOn: base, name: "f")
        #expect(next.patchBase == nil)
        #expect(try await oldWriter.storeFile(Self.day(1), patchingOn: base, name: "f").patchBase == nil)
    }

    @Test("patches made at once (the dump beside the vault index, the S3 object list) are made in turns and read back exactly")
    func patchesAtOnce() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let first = try await repository.beginSet()
        var bases: [Node] = []
        for i in 0..<4 { bases.append(try await first.storeFile(Self.day(i * 10), name: "f\(i)")) }
        _ = try await first.commit(metadata: .null, roots: Dictionary(uniqueKeysWithValues: bases.enumerated().map { ("f\($0.offset)", .file($0.element)) }))
        let writer = try await repository.beginSet()
        let nodes = try await withThrowingTaskGroup(of: (Int, Node).self) { group in
            for i in 0..<4 {
                let file = Self.day(i * 10 + 1), base = bases[i]
                let input = i % 2 == 0 ? try Self.handle(file, in: scratch) : nil
                group.addTask {
                    let node = if let input { try await writer.storeStream(input, patchingOn: base, name: "f\(i)") }
                               else { try await writer.storeFile(file, patchingOn: base, name: "f\(i)") }
                    return (i, node)
                }
            }
            return try await group.reduce(into: [Int: Node]()) { $0[$1.0] = $1.1 }
        }
        _ = try await writer.commit(metadata: .null, roots: Dictionary(uniqueKeysWithValues: nodes.map { ("f\($0.key)", .file($0.value)) }))
        for (i, node) in nodes {
            #expect(node.patchBase == bases[i].content)
            #expect(try await repository.read(node, offset: 0, length: Int(node.size)) == Self.day(i * 10 + 1))
        }
    }

    @Test("one patch turn at a time: the next waits until the holder ends it, then the turns pass in order")
    func turns() async throws {
        final class Order: Sendable {
            let lines = Mutex<[String]>([])
            func append(_ line: String) { lines.withLock { $0.append(line) } }
        }
        let turns = PatchTurns(), order = Order()
        await turns.begin()
        let waiting = (0..<3).map { i in
            Task {
                await turns.run { order.append("waiter") }
                return i
            }
        }
        for _ in 0..<20 { await Task.yield() }
        order.append("holder ends")
        turns.end()
        for task in waiting { _ = await task.value }
        #expect(order.lines.withLock { $0 } == ["holder ends", "waiter", "waiter", "waiter"])
        // Free again: a turn begins at once.
        await turns.run { order.append("after") }
        #expect(order.lines.withLock { $0.last } == "after")
    }

    @Test("a file over the patch limit is stored whole, streamed, and reads back exactly")
    func overTheLimit() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let base = try await writer.storeFile(Self.day(0), name: "f")
        // Rows repeated past the limit: the patch would be tiny, but the file is never held whole to make it.
        let row = Self.day(3)
        var big = Data(capacity: SetWriter.patchLimit + 2 * row.count)
        while big.count <= SetWriter.patchLimit { big.append(row) }
        let node = try await writer.storeStream(try Self.handle(big, in: scratch), patchingOn: base, name: "f")
        #expect(node.patchBase == nil && node.size == Int64(big.count))
        #expect(try await writer.storeFile(big, patchingOn: base, name: "f").patchBase == nil)
        _ = try await writer.commit(metadata: .null, roots: ["f": .file(node), "base": .file(base)])
        #expect(try await repository.read(node, offset: 0, length: Int(node.size)) == big)
    }

    @Test("rejoin yields the bytes already read, then the rest of the pipe, then its end")
    func rejoin() throws {
        let pipe = Pipe()
        let rest = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        Thread {
            try? pipe.fileHandleForWriting.write(contentsOf: rest)
            try? pipe.fileHandleForWriting.close()
        }.start()
        let head = Data("head of the dump".utf8)
        let joined = SetWriter.rejoin(head, pipe.fileHandleForReading)
        var out = Data()
        while let piece = try joined.read(upToCount: 1 << 16), !piece.isEmpty { out.append(piece) }
        #expect(out == head + rest)
    }

    @Test("references: whole and patched single files and tree entries round-trip; folders and damaged text are no file")
    func references() async throws {
        let a = BlobID.sha256(Data("a".utf8)), b = BlobID.sha256(Data("b".utf8)), c = BlobID.sha256(Data("c".utf8))
        let whole = NodeReference.blobs(content: [a, b], patchBase: nil)
        #expect(whole.text == "blobs:\(a.hex),\(b.hex)")
        let patch = NodeReference.blobs(content: [a], patchBase: [b, c])
        #expect(patch.text == "blobs:\(a.hex);base:\(b.hex),\(c.hex)")
        let entry = NodeReference.entry(tree: c, name: "vault-index.jsonl")
        for reference in [whole, patch, entry, .blobs(content: [], patchBase: nil)] {
            #expect(NodeReference(reference.text) == reference)
        }
        var node = Node(name: "f", type: .file, mode: 0o600, mtime: FileTime(s: 1, ns: 0), size: 9, content: [a])
        #expect(NodeReference(file: node) == .blobs(content: [a], patchBase: nil))
        node.patchBase = [b]
        #expect(NodeReference(file: node) == .blobs(content: [a], patchBase: [b]))
        for text in ["", "tree:\(c.hex)", "tree:\(c.hex)/", "tree:zz/name", "blobs:zz", "blobs:\(a.hex);base:", "blobs:\(a.hex);other:\(b.hex)",
                     "blobs:\(a.hex);base:\(b.hex);base:\(c.hex)", "blobs:\(a.hex);base:zz", "\(a.hex)"] {
            #expect(NodeReference(text) == nil, "\(text)")
        }
    }

    @Test("a single-file reference rebuilds the node with its patch base; a tree entry is the tree's node")
    func nodes() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let first = try await repository.beginSet()
        let base = try await first.storeFile(Self.day(0), name: "index.jsonl")
        _ = try await first.commit(metadata: .null, roots: ["f": .file(base)])
        let writer = try await repository.beginSet()
        let patch = try await writer.storeStream(try Self.handle(Self.day(2), in: scratch), patchingOn: base, name: "index.jsonl")
        let tree = try await writer.storeTree(Tree(nodes: [patch]))
        _ = try await writer.commit(metadata: .null, roots: ["t": .tree(tree)])
        let rebuilt = try #require(try await repository.node(NodeReference(file: patch), name: "index.jsonl", mode: 0o600, uid: 0, gid: 0,
                                                             mtimeNanoseconds: 1_500_000_000, size: patch.size))
        #expect(rebuilt.patchBase == base.content && rebuilt.content == patch.content && rebuilt.mtime == FileTime(s: 1, ns: 500_000_000))
        #expect(try await repository.read(rebuilt, offset: 0, length: Int(rebuilt.size)) == Self.day(2))
        let entry = try await repository.node(.entry(tree: tree, name: "index.jsonl"), name: "x", mode: 0, uid: 0, gid: 0, mtimeNanoseconds: 0, size: 0)
        #expect(entry == patch)
        #expect(try await repository.node(.entry(tree: tree, name: "other"), name: "x", mode: 0, uid: 0, gid: 0, mtimeNanoseconds: 0, size: 0) == nil)
    }
}
