import Foundation
@testable import Repository
import Testing

/// Lock-free writing: several writers add objects side by side and every set stays complete.
@Suite struct ConcurrencyTests {
    @Test("two writers with their own repository handles store overlapping data at once; both sets verify")
    func twoWriters() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 31)
        let shared = Data(random.bytes(3_000_000))
        for host in ["a", "b"] {
            scratch.write("\(host)/shared.bin", shared)
            scratch.write("\(host)/own.bin", Data(random.bytes(2_500_000)))
            scratch.write("\(host)/etc/config", Data("host = \(host)\n".utf8))
        }
        _ = try await Fixture.repository(scratch.sub("repo"))
        let repo = "\(scratch.path)/repo"
        let (sourceA, sourceB) = ("\(scratch.path)/a", "\(scratch.path)/b")
        async let first = Fixture.backup(try await Fixture.reopen(repo), sourceA)
        async let second = Fixture.backup(try await Fixture.reopen(repo), sourceB)
        let (a, b) = try await (first, second)

        let reader = try await Fixture.reopen(repo)
        #expect(Set(try await reader.snapshots().map(\.id)) == [a.0.id, b.0.id])
        let report = try await Verifier(repository: reader).verify(readPercent: 100)
        #expect(report.isClean, "\(report.problems)")
        for (set, host) in [(a.0, "a"), (b.0, "b")] {
            let restored = scratch.sub("restored-\(host)")
            guard case let .tree(tree) = set.snapshot.roots["item"] else { continue }
            _ = try await Restorer(repository: reader).restoreTree(tree, into: restored)
            #expect(FileManager.default.contents(atPath: "\(restored)/shared.bin") == shared)
            #expect(FileManager.default.contents(atPath: "\(restored)/own.bin") ==
                    FileManager.default.contents(atPath: "\(scratch.path)/\(host)/own.bin"))
        }
    }

    @Test("a writer that starts after another finished reuses all of its blobs")
    func laterWriterDedupes() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 32)
        scratch.write("src/big.bin", Data(random.bytes(3_000_000)))
        _ = try await Fixture.repository(scratch.sub("repo"))
        let repo = "\(scratch.path)/repo"
        _ = try await Fixture.backup(try await Fixture.reopen(repo), "\(scratch.path)/src")
        let (_, _, stats) = try await Fixture.backup(try await Fixture.reopen(repo), "\(scratch.path)/src")
        #expect(stats.newBlobs == 0 && stats.packs == 0)
    }
}
