import Foundation
@testable import Repository
import Testing

@Suite struct VerifyTests {
    /// A repository with two files in separate sets, and the pack each file's data went to.
    static func setUp(_ scratch: Scratch) async throws -> Repository {
        var random = SplitMix64(seed: 21)
        scratch.write("source/docs/report.pdf", Data(random.bytes(600_000)))
        scratch.write("source/notes.txt", Data("short note\n".utf8))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        _ = try await Fixture.backup(repository, "\(scratch.path)/source")
        return repository
    }

    static func packs(_ scratch: Scratch) -> [String] {
        Fixture.files(under: "\(scratch.path)/repo/data")
    }

    @Test("a clean repository verifies clean, structure and data")
    func clean() async throws {
        let scratch = Scratch()
        let repository = try await Self.setUp(scratch)
        let structure = try await Verifier(repository: repository).verify()
        #expect(structure.isClean && structure.snapshots == 1 && structure.packs == 2)
        let data = try await Verifier(repository: repository).verify(readPercent: 100)
        #expect(data.isClean && data.packsRead == 2)
    }

    @Test("a bit flipped in a data pack is caught by --read-data, naming the blob, the set and the file")
    func bitFlipInData() async throws {
        let scratch = Scratch()
        _ = try await Self.setUp(scratch)
        // The data pack is the larger one; flip one bit in its first blob.
        let pack = Self.packs(scratch).max { (try! Data(contentsOf: URL(fileURLWithPath: $0))).count < (try! Data(contentsOf: URL(fileURLWithPath: $1))).count }!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: pack))
        bytes[100] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: pack))

        let repository = try await Fixture.reopen("\(scratch.path)/repo")
        let structure = try await Verifier(repository: repository).verify()
        #expect(structure.isClean, "structure alone does not read data blobs")
        let report = try await Verifier(repository: repository).verify(readPercent: 100)
        let blobProblems = report.problems.filter { $0.object.hasPrefix("blob ") }
        #expect(blobProblems.count == 1)
        let set = try await repository.snapshots()[0].id.hex.prefix(8)
        #expect(blobProblems.first?.affects == ["\(set):item/docs/report.pdf"])
        #expect(blobProblems.first?.detail.contains("does not authenticate") == true)
    }

    @Test("a bit flipped in a tree pack is caught by structure verify, naming the folder")
    func bitFlipInTree() async throws {
        let scratch = Scratch()
        _ = try await Self.setUp(scratch)
        let pack = Self.packs(scratch).min { (try! Data(contentsOf: URL(fileURLWithPath: $0))).count < (try! Data(contentsOf: URL(fileURLWithPath: $1))).count }!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: pack))
        bytes[20] ^= 0x80
        try bytes.write(to: URL(fileURLWithPath: pack))
        let repository = try await Fixture.reopen("\(scratch.path)/repo")
        let report = try await Verifier(repository: repository).verify()
        #expect(!report.isClean)
        #expect(report.problems.contains { $0.object.hasPrefix("blob ") && !$0.affects.isEmpty })
    }

    @Test("a missing pack is caught by structure verify, naming every file it affects")
    func missingPack() async throws {
        let scratch = Scratch()
        _ = try await Self.setUp(scratch)
        let pack = Self.packs(scratch).max { (try! Data(contentsOf: URL(fileURLWithPath: $0))).count < (try! Data(contentsOf: URL(fileURLWithPath: $1))).count }!
        try FileManager.default.removeItem(atPath: pack)
        let repository = try await Fixture.reopen("\(scratch.path)/repo")
        let report = try await Verifier(repository: repository).verify()
        #expect(report.problems.contains { $0.object.hasPrefix("pack ") && $0.detail.contains("missing") })
        let affected = Set(report.problems.flatMap(\.affects).map { $0.split(separator: ":").last.map(String.init) ?? "" })
        #expect(affected == ["item/docs/report.pdf", "item/notes.txt"])
    }

    @Test("a damaged index file is named by verify; the next write re-indexes its packs from their headers")
    func damagedIndex() async throws {
        let scratch = Scratch()
        _ = try await Self.setUp(scratch)
        let indexFile = try #require(Fixture.files(under: "\(scratch.path)/repo/index").first)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: indexFile))
        bytes[bytes.count - 3] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: indexFile))

        let repository = try await Fixture.reopen("\(scratch.path)/repo")
        let report = try await Verifier(repository: repository).verify()
        #expect(report.problems.contains { $0.object.hasPrefix("index/") })
        #expect(report.unindexedPacks == 2)
        // The root tree is unindexed too, so the whole item is named.
        #expect(report.problems.contains { $0.affects.contains { $0.hasSuffix(":item/") } })

        _ = try await Fixture.backup(repository, "\(scratch.path)/source")
        let after = try await Verifier(repository: try await Fixture.reopen("\(scratch.path)/repo")).verify(readPercent: 100)
        #expect(after.problems.map(\.object) == [String(indexFile.dropFirst("\(scratch.path)/repo/".count))])
        #expect(after.unindexedPacks == 0)
    }

    @Test("--read-data=P reads a rotating subset; ceil(100/P) runs read every pack once")
    func rotatingSubsets() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet(packSize: 64 << 10)
        var random = SplitMix64(seed: 5)
        var roots: [String: Snapshot.Root] = [:]
        for i in 0..<12 { roots["f\(i)"] = .file(try await writer.storeFile(Data(random.bytes(80_000)), name: "f\(i)")) }
        _ = try await writer.commit(metadata: .null, roots: roots)
        let verifier = Verifier(repository: repository)
        var read = 0
        var subsets: [Int] = []
        for _ in 0..<4 {
            let report = try await verifier.verify(readPercent: 25)
            #expect(report.isClean)
            read += report.packsRead
            subsets.append(report.subset?.bucket ?? -1)
        }
        #expect(subsets == [0, 1, 2, 3])
        #expect(read == (try await verifier.verify()).packs)
    }
}
