import Foundation
@testable import Repository
import Support
import Testing

/// Prune's mark and sweep, its two phases, repacking, refusals, and a backup in another process running
/// through it (docs/repository-format.md, Prune).
@Suite struct PruneTests {
    static let later: TimeInterval = PruneOptions.defaultGrace + 3600

    /// Two sets: `a` (a.bin, its own) and `b` (b.bin, its own); both share shared.bin.
    static func twoSets(_ scratch: Scratch) async throws -> (Repository, a: StoredSnapshot, b: StoredSnapshot) {
        var random = SplitMix64(seed: 91)
        let shared = Data(random.bytes(400_000))
        scratch.write("a/a.bin", Data(random.bytes(900_000)))
        scratch.write("a/shared.bin", shared)
        scratch.write("b/b.bin", Data(random.bytes(500_000)))
        scratch.write("b/shared.bin", shared)
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let (a, _, _) = try await Fixture.backup(repository, "\(scratch.path)/a")
        let (b, _, _) = try await Fixture.backup(repository, "\(scratch.path)/b")
        return (repository, a, b)
    }

    static func packBytes(_ scratch: Scratch) -> Int {
        Fixture.files(under: "\(scratch.path)/repo/data").reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    }

    /// Restores `snapshot`'s root `item` and compares every file with `source`.
    static func restoresBitIdentical(_ repository: Repository, _ snapshot: StoredSnapshot, source: String, scratch: Scratch) async throws {
        guard case let .tree(tree) = try #require(snapshot.snapshot.roots["item"]) else { throw CancellationError() }
        let target = scratch.sub("restore-\(snapshot.id.short)")
        _ = try await Restorer(repository: repository, restoreOwners: false).restoreTree(tree, into: target)
        let sourceFiles = Fixture.files(under: source).map { String($0.dropFirst(source.count)) }
        #expect(Fixture.files(under: target).map { String($0.dropFirst(target.count)) } == sourceFiles)
        for file in sourceFiles {
            #expect(FileManager.default.contents(atPath: target + file) == FileManager.default.contents(atPath: source + file), "\(file)")
        }
    }

    @Test("a forgotten set's data is condemned first and deleted by a run after the grace period; the rest restores bit-identical")
    func twoPhases() async throws {
        let scratch = Scratch()
        let (repository, a, b) = try await Self.twoSets(scratch)
        try await repository.removeSnapshot(a.id)
        let before = Self.packBytes(scratch)
        // The packs are seconds old: younger than the grace period, so the first run leaves them all alone.
        let young = try await Pruner(repository: repository).prune()
        #expect(young.youngPacks == young.packs && young.condemnedPacks == 0 && young.reclaimedBytes == 0)

        let first = try await Pruner(repository: repository).prune(now: Date().addingTimeInterval(Self.later))
        #expect(first.condemnedPacks + first.repackedPacks > 0 && first.reclaimedBytes == 0)
        #expect(first.pendingBytes >= 900_000, "a.bin's pack is condemned: \(first)")
        #expect(Self.packBytes(scratch) >= before, "nothing is deleted in the first phase")
        let between = try await Verifier(repository: try await Fixture.reopen("\(scratch.path)/repo")).verify(readPercent: 100)
        #expect(between.isClean && between.condemnedPacks == first.condemnedPacks && between.unindexedPacks == 0,
                "\(between)")
        // A writer starting now neither sees the condemned blobs nor adopts their packs.
        let fresh = try await (try await Fixture.reopen("\(scratch.path)/repo")).beginSet()
        #expect(fresh.statistics.adoptedPacks == 0)

        let second = try await Pruner(repository: repository).prune(now: Date().addingTimeInterval(2 * Self.later))
        #expect(second.deletedPacks > 0 && second.reclaimedBytes >= 900_000, "\(second)")
        #expect(Self.packBytes(scratch) <= before - 800_000)
        #expect(try await repository.backend.list(prefix: "prune/").isEmpty, "the finished plan is removed")
        #expect(try await repository.backend.list(prefix: "index/").count == 1, "one index replaces the old ones")
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        let after = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(after.isClean && after.unindexedPacks == 0, "\(after.problems)")
        try await Self.restoresBitIdentical(reopened, b, source: "\(scratch.path)/b", scratch: scratch)
    }

    @Test("a set that lands after its data was condemned (its writer read the old index) keeps that data: the pack is rescued")
    func rescue() async throws {
        let scratch = Scratch()
        let (repository, a, _) = try await Self.twoSets(scratch)
        // A writer that loaded the index before the prune, as a backup on another host would have.
        let early = try await Fixture.reopen("\(scratch.path)/repo")
        let writer = try await early.beginSet()
        try await repository.removeSnapshot(a.id)
        let first = try await Pruner(repository: repository).prune(now: Date().addingTimeInterval(Self.later))
        #expect(first.condemnedPacks > 0)
        // The writer stores a.bin again: it dedupes against the condemned blobs it still has in memory.
        let result = try await writer.storeDirectory(at: "\(scratch.path)/a")
        let late = try await writer.commit(metadata: .null, roots: ["item": .tree(result.tree)])
        #expect(writer.statistics.newBytes < 900_000, "the writer reused a.bin's condemned blobs")
        let between = try await Verifier(repository: try await Fixture.reopen("\(scratch.path)/repo")).verify()
        #expect(between.isClean, "a set on condemned data is whole until the next prune re-indexes it: \(between.problems)")

        let second = try await Pruner(repository: repository).prune(now: Date().addingTimeInterval(2 * Self.later))
        #expect(second.rescuedPacks > 0, "\(second)")
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        let report = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(report.isClean, "\(report.problems)")
        try await Self.restoresBitIdentical(reopened, late, source: "\(scratch.path)/a", scratch: scratch)
    }

    @Test("a pack mostly unused is repacked: its used blobs move to a new pack, the rest is reclaimed")
    func repack() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 17)
        for i in 0..<10 { scratch.write("big/f\(i)", Data(random.bytes(300_000))) }
        try FileManager.default.createDirectory(atPath: scratch.sub("small"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(scratch.path)/big/f3", toPath: "\(scratch.path)/small/f3")
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let (big, _, _) = try await Fixture.backup(repository, "\(scratch.path)/big")
        let (small, _, _) = try await Fixture.backup(repository, "\(scratch.path)/small")
        try await repository.removeSnapshot(big.id)
        // What a writer killed mid-write leaves in a local repository.
        scratch.write("repo/data/00/.tmp-killed-writer", Data(count: 4096))
        let report = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune()
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/repo/data/00/.tmp-killed-writer"))
        #expect(report.repackedPacks >= 1 && report.repackedBlobs >= 1 && report.writtenPacks >= 1, "\(report)")
        #expect(report.reclaimedBytes >= 9 * 300_000, "\(report)")
        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        let verify = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(verify.isClean && verify.unindexedPacks == 0, "\(verify.problems)")
        try await Self.restoresBitIdentical(reopened, small, source: "\(scratch.path)/small", scratch: scratch)
        // Nothing left to do: a second run changes nothing.
        let again = try await Pruner(repository: reopened, options: PruneOptions(grace: 0)).prune()
        #expect(again.condemnedPacks == 0 && again.deletedPacks == 0 && again.repackedPacks == 0 && again.indexFilesWritten == 0)
    }

    @Test("a damaged index file is refused with a pointer to verify; nothing is removed")
    func damagedIndexRefused() async throws {
        let scratch = Scratch()
        let (_, a, _) = try await Self.twoSets(scratch)
        let repo = "\(scratch.path)/repo"
        try FileManager.default.removeItem(atPath: "\(repo)/snapshots/\(a.id.hex)")
        let index = try #require(Fixture.files(under: "\(repo)/index").first)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: index))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: index))
        let packs = Fixture.files(under: "\(repo)/data")
        let repository = try await Fixture.reopen(repo)
        await #expect {
            try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune()
        } throws: { error in
            guard let error = error as? OperatorError else { return false }
            return error.status == .failed && error.problem.contains("index/") && error.remedy?.contains("valkyrie verify") == true
        }
        #expect(Fixture.files(under: "\(repo)/data") == packs)
        #expect(try await repository.backend.list(prefix: "prune/").isEmpty)
    }

    @Test("a backup in another process runs while prune condemns the data it reuses; after the next prune its set verifies and restores")
    func concurrentBackup() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 33)
        let repo = scratch.sub("repo")
        let repository = try await Fixture.repository(repo)
        // An old set whose file the backup will reuse, then forgotten.
        scratch.write("old/reused.bin", Data(random.bytes(1_500_000)))
        let (old, _, _) = try await Fixture.backup(repository, "\(scratch.path)/old")
        try await repository.removeSnapshot(old.id)
        // Its packs were written longer ago than the grace period; the backup's will be young.
        for pack in Fixture.files(under: "\(repo)/data") {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-Self.later)], ofItemAtPath: pack)
        }
        // The backup: the reused file and 24 MiB of new data in 1 MiB packs, so it runs a while.
        scratch.write("src/reused.bin", FileManager.default.contents(atPath: "\(scratch.path)/old/reused.bin")!)
        for i in 0..<12 { scratch.write("src/new/f\(i)", Data(random.bytes(2_000_000))) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CrashTests.writer)
        process.arguments = ["write", repo, "\(scratch.path)/src", "1024"]
        process.environment = ["VALKYRIE_PASSWORD": String(decoding: Fixture.passphrase, as: UTF8.self),
                               "VALKYRIE_WRITER_HOLD": "1"]
        let output = Pipe(), progress = Pipe(), go = Pipe()
        process.standardOutput = output
        process.standardError = progress
        process.standardInput = go
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // The backup has read the index and stored its data, and waits to commit its set: prune runs now, however
        // loaded the machine, then the backup goes on.
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("stored\n") {
            let more = progress.fileHandleForReading.availableData
            if more.isEmpty { break }
            said.append(more)
        }
        try #require(String(decoding: said, as: UTF8.self).contains("stored\n"), "the writer stopped before storing: \(String(decoding: said, as: UTF8.self))")
        let snapshotsDuring = try await repository.backend.list(prefix: "snapshots/").count
        let during: PruneReport
        do {
            during = try await Pruner(repository: repository).prune()
        } catch {
            try? go.fileHandleForWriting.close()
            throw error
        }
        try go.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
        try go.fileHandleForWriting.close()
        #expect(snapshotsDuring == 0, "the backup was still running when prune marked")
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(during.condemnedPacks > 0, "the old set's pack was condemned while the backup ran: \(during)")
        struct Written: Decodable { let set: String }
        let written = try JSONFormat.decoder().decode(Written.self, from: stdout)

        let after = try await Pruner(repository: try await Fixture.reopen(repo)).prune(now: Date().addingTimeInterval(2 * Self.later))
        #expect(after.rescuedPacks > 0, "the backup's set uses the condemned pack: \(after)")
        let reopened = try await Fixture.reopen(repo)
        let report = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(report.isClean && report.snapshots == 1, "\(report.problems)")
        let set = try #require(try await reopened.snapshots().first { $0.id.hex == written.set })
        guard case let .tree(tree) = try #require(set.snapshot.roots["source"]) else { throw CancellationError() }
        let target = scratch.sub("restored")
        _ = try await Restorer(repository: reopened, restoreOwners: false).restoreTree(tree, into: target)
        for file in Fixture.files(under: "\(scratch.path)/src") {
            let relative = String(file.dropFirst("\(scratch.path)/src".count))
            #expect(FileManager.default.contents(atPath: target + relative) == FileManager.default.contents(atPath: file), "\(relative)")
        }
    }
}
