import Foundation
@testable import Repository
import Support
import Testing
import Zstd

/// File nodes stored as a patch on another file (repository version 2, docs/repository-format.md, Patches).
@Suite struct PatchTests {
    /// A dump-like text, and the same with a few rows changed and one added.
    static func versions() -> (old: Data, new: Data) {
        var random = SplitMix64(seed: 23)
        var lines = (0..<40_000).map { "row \($0)\tvalue \(random.next() % 1_000_000)\n" }
        let old = Data(lines.joined().utf8)
        for i in stride(from: 7, to: lines.count, by: 997) { lines[i] = "row \(i)\tchanged\n" }
        return (old, Data((lines.joined() + "row 40000\tnew\n").utf8))
    }

    @Test("a patch node reads back as its file, whole, in pieces and restored; prune keeps its base once the base's set is gone")
    func patchNode() async throws {
        let scratch = Scratch()
        let (old, new) = Self.versions()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        #expect(repository.config.version == 2 && repository.config.allowsPatches)
        let first = try await repository.beginSet()
        let base = try await first.storeFile(old, name: "dump")
        let a = try await first.commit(metadata: .null, roots: ["item": .file(base)])
        let second = try await repository.beginSet()
        var node = try await second.storeFile(try #require(try Zstd.compress(new, prefix: old)), name: "dump")
        #expect(node.size * 50 < Int64(new.count), "patch of \(node.size) bytes")
        node.size = Int64(new.count)
        node.patchBase = base.content
        let b = try await second.commit(metadata: .null, roots: ["item": .file(node)])
        #expect(node.dataBlobs == (node.content ?? []) + (base.content ?? []))

        // Forgetting the base's set leaves the base to the patch: prune keeps it.
        try await repository.removeSnapshot(a.id)
        _ = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune()
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        guard case let .file(stored)? = try await reopened.snapshot(b.id).roots["item"] else { throw CancellationError() }
        #expect(stored == node)
        #expect(try await reopened.read(stored, offset: 0, length: new.count) == new)
        #expect(try await reopened.read(stored, offset: 1000, length: 5000) == new.subdata(in: 1000..<6000))
        #expect(try await reopened.read(stored, offset: Int64(new.count - 10), length: 100) == new.suffix(10))
        #expect(try await reopened.read(stored, offset: Int64(new.count), length: 100).isEmpty)
        let path = "\(scratch.path)/restored"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try await reopened.write(stored, to: handle)
        try handle.close()
        #expect(FileManager.default.contents(atPath: path) == new)
        let report = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(report.isClean, "\(report.problems)")
    }

    @Test("a patch whose base is gone is a missing blob for verify and an error for a read, never other bytes")
    func missingBase() async throws {
        let scratch = Scratch()
        let (old, new) = Self.versions()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let base = try await writer.storeFile(old, name: "dump")
        var node = try await writer.storeFile(try #require(try Zstd.compress(new, prefix: old)), name: "dump")
        node.size = Int64(new.count)
        // A base that is not the one the patch was made on.
        node.patchBase = (try await writer.storeFile(Data(old.reversed()), name: "other")).content
        _ = try await writer.commit(metadata: .null, roots: ["item": .file(node), "base": .file(base)])
        await #expect(throws: OperatorError.self) { try await repository.read(node, offset: 0, length: 10) }
        node.patchBase = [BlobID.sha256(Data("no such blob".utf8))]
        await #expect(throws: OperatorError.self) { try await repository.read(node, offset: 0, length: 10) }
        let missing = try await repository.beginSet()
        _ = try await missing.commit(metadata: .null, roots: ["item": .file(node)])
        let report = try await Verifier(repository: try await Fixture.reopen("\(scratch.path)/repo")).verify(readPercent: 0)
        #expect(!report.isClean)
    }

    @Test("a patch node written before patches were streamed (libzstd's one-shot frame) reads back as its file")
    func oneShotPatch() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        // ZSTD_compress2 of `patched` on `base` (level 3, window log 17, long matching, checksum): the frame the
        // wrapper's one-shot path wrote, byte for byte (WrapperTests' ZstdTests hold the same vector).
        let base = Data((0..<2000).map { "row \($0)\tvalue \($0 * 7)\n" }.joined().utf8)
        let patched = Data(((0..<2000).map { "row \($0)\tvalue \($0 % 500 == 0 ? -1 : $0 * 7)\n" }.joined() + "row 2000\tnew\n").utf8)
        let frame = try #require(Data(base64Encoded: "KLUv/WSMmGUBAIgtMS0xLTEtMTIwMDAJbmV3CgUQD/FIMMNjqFOY4bFFOczwmIEkZnhEzHBBQ1LRow=="))
        let writer = try await repository.beginSet()
        let baseNode = try await writer.storeFile(base, name: "dump")
        var node = try await writer.storeFile(frame, name: "dump")
        node.size = Int64(patched.count)
        node.patchBase = baseNode.content
        let committed = try await writer.commit(metadata: .null, roots: ["item": .file(node)])
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        guard case let .file(stored)? = try await reopened.snapshot(committed.id).roots["item"] else { throw CancellationError() }
        #expect(try await reopened.read(stored, offset: 0, length: patched.count) == patched)
        #expect(try await reopened.read(stored, offset: 10, length: 20) == patched.subdata(in: 10..<30))
        // The next set's patch on that file is made on its base, as before.
        let next = try await reopened.beginSet()
        let again = try await next.storeFile(patched + Data("row 2001\tnew\n".utf8), patchingOn: stored, name: "dump")
        #expect(again.patchBase == baseNode.content)
        _ = try await next.commit(metadata: .null, roots: ["item": .file(again)])
        #expect(try await reopened.read(again, offset: 0, length: Int(again.size)) == patched + Data("row 2001\tnew\n".utf8))
    }

    @Test("a version 1 repository opens without patches; a version it does not know is refused")
    func versions() async throws {
        let scratch = Scratch()
        let old = try await Repository.initialize(backend: LocalBackend(path: scratch.sub("v1")), slot: .passphrase(Fixture.passphrase, cost: .interactive),
                                                  label: "test", version: 1)
        let reopened = try await Fixture.reopen("\(scratch.path)/v1")
        #expect(reopened.config.version == 1 && !reopened.config.allowsPatches)
        var future = old.config
        future.version = 3
        try await old.backend.delete("config")
        try await old.backend.put("config", try old.seal(JSONFormat.encoder().encode(future), kind: "config"))
        await #expect(throws: OperatorError.self) { try await Fixture.reopen("\(scratch.path)/v1") }
    }
}
