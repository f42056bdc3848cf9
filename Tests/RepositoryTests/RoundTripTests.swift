import Foundation
import POSIX
@testable import Repository
import Testing

/// Property-style: random trees over many seeds are stored, restored, and compared byte for byte and in
/// every piece of metadata the format keeps.
@Suite struct RoundTripTests {
    /// Builds a random tree: nested folders, files of many sizes (empty to a few chunks, compressible or not),
    /// symlinks, hard links, a FIFO, xattrs, odd modes and times.
    static func makeTree(at root: String, seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var folders = [root]
        var files: [String] = []
        for i in 0..<Int.random(in: 8...20, using: &random) {
            let parent = folders.randomElement(using: &random)!
            let name = ["f\(i)", "ünïcode-\(i)", "with space \(i)", ".hidden\(i)", "x\(i).dat"].randomElement(using: &random)!
            let path = "\(parent)/\(name)"
            switch Int.random(in: 0..<10, using: &random) {
            case 0...1:
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                folders.append(path)
            case 2:
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "../target-\(i)")
            case 3 where !files.isEmpty:
                try FileManager.default.linkItem(atPath: files.randomElement(using: &random)!, toPath: path)
            default:
                let size = [0, 1, 100, 4096, 70_000, 300_000, 2_500_000].randomElement(using: &random)!
                let data = Bool.random(using: &random)
                    ? Data(random.bytes(size))
                    : Data(String(repeating: "line \(i) of text\n", count: size / 17 + 1).utf8.prefix(size))
                _ = FileManager.default.createFile(atPath: path, contents: data)
                try POSIX.chmod(path, [0o600, 0o644, 0o755, 0o4750, 0o400].randomElement(using: &random)!)
                if Bool.random(using: &random) {
                    try ExtendedAttributes.set(path, "user.valkyrie-\(i)", Data(random.bytes(Int.random(in: 0...40, using: &random))))
                }
                try POSIX.setTimes(path, access: FileTime(s: 1_700_000_000, ns: 0),
                                   modification: FileTime(s: Int64.random(in: 0...2_000_000_000, using: &random),
                                                          ns: Int64.random(in: 0..<1_000_000_000, using: &random)))
                files.append(path)
            }
        }
        if seed % 3 == 0 { try POSIX.mknod("\(root)/fifo", kind: .fifo, permissions: 0o640, rdev: 0) }
        for folder in folders.dropFirst().reversed() {
            try POSIX.setTimes(folder, access: FileTime(s: 1_600_000_000, ns: 0), modification: FileTime(s: 1_600_000_000 + Int64(seed), ns: 5))
        }
    }

    /// Everything compared about one path: kind, mode, owner, mtime, size, content, target, xattrs, inode group.
    static func describe(_ root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        var inodes: [UInt64: String] = [:]
        let walker = FileManager.default.enumerator(atPath: root)!
        var paths: [String] = []
        while let next = walker.nextObject() as? String { paths.append(next) }
        for rel in paths.sorted() {
            let path = "\(root)/\(rel)"
            let status = try POSIX.lstat(path)
            var line = "\(status.kind) \(String(status.permissions, radix: 8)) \(status.uid):\(status.gid)"
            if status.kind != .symlink { line += " mtime \(status.mtime.s).\(status.mtime.ns)" }
            switch status.kind {
            case .file:
                let data = FileManager.default.contents(atPath: path)!
                line += " size \(data.count) sha \(BlobID.sha256(data).short)"
                if status.links > 1 {
                    if inodes[status.inode] == nil { inodes[status.inode] = rel }
                    line += " linked-with \(inodes[status.inode]!)"
                }
            case .symlink: line += " -> \(try POSIX.readlink(path))"
            default: break
            }
            for name in try ExtendedAttributes.names(path).sorted() {
                line += " xattr \(name)=\(try ExtendedAttributes.value(path, name).hex)"
            }
            out[rel] = line
        }
        return out
    }

    @Test("random trees survive store and restore exactly", arguments: 1...12)
    func roundTrip(seed: UInt64) async throws {
        let scratch = Scratch("roundTrip\(seed)")
        let source = scratch.sub("source")
        try Self.makeTree(at: source, seed: seed)
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let (set, result, _) = try await Fixture.backup(repository, source)
        #expect(result.warnings.isEmpty)

        // Read back from a freshly opened repository, as another process would.
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        let stored = try await reopened.snapshot(set.id)
        guard case let .tree(tree) = stored.roots["item"] else { Issue.record("no tree root"); return }
        let target = "\(scratch.path)/restored"
        let restore = try await Restorer(repository: reopened).restoreTree(tree, into: target)
        #expect(restore.warnings.isEmpty)
        #expect(try Self.describe(target) == Self.describe(source))
    }

    @Test("the same directory stored twice is the same tree blob, and nothing new is written")
    func deterministicTrees() async throws {
        let scratch = Scratch()
        let source = scratch.sub("source")
        try Self.makeTree(at: source, seed: 99)
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let (first, _, _) = try await Fixture.backup(repository, source)
        let (second, _, stats) = try await Fixture.backup(repository, source)
        #expect(first.snapshot.roots["item"] == second.snapshot.roots["item"])
        #expect(stats.newBlobs == 0 && stats.packs == 0)
    }

    @Test("a file's ranges read lazily match its bytes, fetching only what is needed")
    func rangeReads() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 11)
        let data = Data(random.bytes(5_000_000))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let node = try await writer.storeFile(data, name: "dump", mode: 0o640)
        _ = try await writer.commit(metadata: .null, roots: ["db": .file(node)])
        #expect(node.size == Int64(data.count) && (node.content?.count ?? 0) > 1)
        let reader = try await Fixture.reopen("\(scratch.path)/repo")
        for (offset, length) in [(0, 10), (1_048_570, 100_000), (4_999_990, 100), (0, 5_000_000), (5_000_000, 10)] {
            let bytes = try await reader.read(node, offset: Int64(offset), length: length)
            #expect(bytes == data.subdata(in: offset..<min(data.count, offset + length)))
        }
    }

    @Test("a synthetic tree built in memory round-trips with the stream-stored file in it")
    func syntheticTree() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let pipe = Pipe()
        Thread.detachNewThread {
            try? pipe.fileHandleForWriting.write(contentsOf: Data(String(repeating: "COPY users\n", count: 100_000).utf8))
            try? pipe.fileHandleForWriting.close()
        }
        let dump = try await writer.storeStream(pipe.fileHandleForReading, name: "vaulthalla.dump")
        let note = try await writer.storeFile(Data("{\"host\":\"a\"}".utf8), name: "set.json", mode: 0o644)
        let inner = try await writer.storeTree(Tree(nodes: [dump]))
        let dir = Node(name: "postgres", type: .dir, mode: 0o755, mtime: FileTime(s: 1, ns: 0), subtree: inner)
        let top = try await writer.storeTree(Tree(nodes: [note, dir]))
        let set = try await writer.commit(metadata: .null, roots: ["synthetic": .tree(top)])
        let reader = try await Fixture.reopen("\(scratch.path)/repo")
        let stored = try await reader.snapshot(set.id)
        let found = try #require(try await reader.node(at: "postgres/vaulthalla.dump", in: stored.roots["synthetic"]!))
        #expect(found.size == 1_100_000)
        #expect(try await reader.read(found, offset: 0, length: 11) == Data("COPY users\n".utf8))
    }
}
