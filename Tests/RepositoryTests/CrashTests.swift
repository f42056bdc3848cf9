import Foundation
@testable import Repository
import Testing

/// kill -9 at random moments of a write: the repository must verify afterwards, and the next write must
/// succeed and reuse the packs that landed. (bench/crash-soak runs the same for longer.)
@Suite(.serialized) struct CrashTests {
    /// The `repository-bench` executable built beside this test bundle.
    static var writer: String {
        get throws {
            var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("repository-bench").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
            let build = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/repository-bench").standardizedFileURL.path
            guard FileManager.default.isExecutableFile(atPath: build) else {
                throw CrashTestError.missing("repository-bench is not built; run `swift build --build-tests`")
            }
            return build
        }
    }

    enum CrashTestError: Error { case missing(String) }

    @Test("20 writes killed with SIGKILL at random moments leave a repository that verifies; the next write reuses what landed")
    func killNine() async throws {
        let scratch = Scratch()
        var random = SplitMix64(seed: 51)
        for i in 0..<24 { scratch.write("src/d\(i % 4)/f\(i)", Data(random.bytes(Int.random(in: 200_000...1_800_000, using: &random)))) }
        let repo = scratch.sub("repo")
        _ = try await Fixture.repository(repo)
        let writer = try Self.writer
        var killed = 0, roundsLeavingUnindexedPacks = 0, unindexedBeforeFinal = 0
        for round in 0..<20 {
            // New data every round, so every write has packs to lose; 2 MiB packs put kills between pack writes.
            scratch.write("src/new/round\(round)", Data(random.bytes(6_000_000)))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = ["write", repo, "\(scratch.path)/src", "2048"]
            process.environment = ["VALKYRIE_PASSWORD": String(decoding: Fixture.passphrase, as: UTF8.self)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            // The moment: after a random number (0 to 2) of this run's packs have landed, plus a random delay,
            // so kills fall before, between and after pack writes however fast or loaded the machine is.
            let packsBefore = Fixture.files(under: "\(repo)/data").count
            let packsToWait = Int.random(in: 0...2, using: &random)
            try process.run()
            while process.isRunning && Fixture.files(under: "\(repo)/data").count - packsBefore < packsToWait {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...(packsToWait == 0 ? 400 : 40), using: &random)))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            // After every kill the repository is consistent: every set is complete and every index entry real.
            let report = try await Verifier(repository: try await Fixture.reopen(repo)).verify()
            #expect(report.isClean, "\(report.problems)")
            if report.unindexedPacks > 0 { roundsLeavingUnindexedPacks += 1 }
            unindexedBeforeFinal = report.unindexedPacks
        }
        #expect(killed >= 10, "the writer finished too fast to be killed mid-write")
        #expect(roundsLeavingUnindexedPacks > 0, "no kill landed after a pack was written")

        // The next write completes, adopts every pack that landed without an index, and restores to the source.
        let packsBefore = Set(Fixture.files(under: "\(repo)/data"))
        let repository = try await Fixture.reopen(repo)
        let (set, _, stats) = try await Fixture.backup(repository, "\(scratch.path)/src")
        #expect(packsBefore.isSubset(of: Set(Fixture.files(under: "\(repo)/data"))))
        #expect(stats.adoptedPacks == unindexedBeforeFinal)
        if unindexedBeforeFinal > 0 { #expect(stats.newBytes < stats.bytes) }
        let report = try await Verifier(repository: try await Fixture.reopen(repo)).verify(readPercent: 100)
        #expect(report.isClean && report.unindexedPacks == 0, "\(report.problems)")
        guard case let .tree(tree) = set.snapshot.roots["item"] else { return }
        _ = try await Restorer(repository: repository).restoreTree(tree, into: "\(scratch.path)/restored")
        for file in Fixture.files(under: "\(scratch.path)/src") {
            let rel = String(file.dropFirst("\(scratch.path)/src".count))
            #expect(FileManager.default.contents(atPath: "\(scratch.path)/restored\(rel)") == FileManager.default.contents(atPath: file))
        }
    }
}
