import Foundation
import Support
import Testing
@testable import Repository

/// Opening reads the index files beside the key derivation, then decrypts them: every blob must still be found,
/// a later writer's index files must still be picked up, and a refused credential must still be refused.
@Suite struct IndexLoadingTests {
    /// Three sets of different content: three index files.
    static func threeSets(_ scratch: Scratch) async throws -> Repository {
        let repository = try await Fixture.repository("\(scratch.path)/repo")
        var random = SplitMix64(seed: 7)
        for set in 0..<3 {
            let source = scratch.sub("source\(set)")
            for file in 0..<4 { scratch.write("source\(set)/f\(file)", Data(random.bytes(3000 + 1000 * file))) }
            _ = try await Fixture.backup(repository, source)
        }
        return repository
    }

    static func locations(_ repository: Repository) -> [BlobID: BlobLocation] {
        repository.index.withLock { index in
            Dictionary(uniqueKeysWithValues: index.entriesByPack().values.flatMap { $0 }.map { ($0.id, index.location($0.id)!) })
        }
    }

    @Test("a reopened repository finds every blob the writer indexed, at the same place, from every index file")
    func everyBlobIsFound() async throws {
        let scratch = Scratch()
        let writer = try await Self.threeSets(scratch)
        let expected = Self.locations(writer)
        #expect(expected.count >= 12, "four files and a tree per set at least")

        let reopened = try await Fixture.reopen("\(scratch.path)/repo")
        #expect(reopened.indexFiles.count == 3)
        #expect(reopened.blobCount == expected.count)
        let found = Self.locations(reopened)
        for (id, location) in expected {
            let pack = writer.index.withLock { $0.pack(location.pack) }
            let there = try #require(found[id], "blob \(id.short) is indexed after reopening")
            #expect(reopened.index.withLock { $0.pack(there.pack) } == pack && there.offset == location.offset
                    && there.storedLength == location.storedLength && there.type == location.type)
            #expect(try await reopened.blob(id).count == Int(location.rawLength))
        }
    }

    @Test("refreshIndex reads only the index files another writer added since")
    func refreshPicksUpNewIndexFiles() async throws {
        let scratch = Scratch()
        _ = try await Self.threeSets(scratch)
        let reader = try await Fixture.reopen("\(scratch.path)/repo")
        let other = try await Fixture.reopen("\(scratch.path)/repo")
        var random = SplitMix64(seed: 99)
        scratch.write("late/new", Data(random.bytes(5000)))
        _ = try await Fixture.backup(other, scratch.sub("late"))
        let added = Set(Self.locations(other).keys).subtracting(Self.locations(reader).keys)
        #expect(!added.isEmpty)
        #expect(added.allSatisfy { !reader.contains($0) })

        try await reader.refreshIndex()
        #expect(reader.indexFiles.count == 4)
        #expect(added.allSatisfy { reader.contains($0) })
        #expect(reader.blobCount == other.blobCount)
    }

    @Test("a passphrase that opens no slot is refused as before, whatever the index read beside it")
    func wrongPassphraseIsRefused() async throws {
        let scratch = Scratch()
        _ = try await Self.threeSets(scratch)
        await #expect {
            try await Repository.open(backend: LocalBackend(path: "\(scratch.path)/repo"), unlock: [.passphrase(Data("wrong".utf8))])
        } throws: { error in
            (error as? OperatorError)?.status == .usage && (error as? OperatorError)?.problem.contains("passphrase") == true
        }
    }

    @Test("a repository without a config is refused before any index is read")
    func noConfigIsRefused() async throws {
        let scratch = Scratch()
        scratch.write("repo/index/" + String(repeating: "ab", count: 32), Data("not an index".utf8))
        await #expect {
            try await Repository.open(backend: LocalBackend(path: "\(scratch.path)/repo"), unlock: [.passphrase(Fixture.passphrase)])
        } throws: { error in
            (error as? OperatorError)?.problem.contains("is not a Valkyrie repository") == true
        }
    }
}
