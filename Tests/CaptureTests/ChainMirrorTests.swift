import Catalog
import Foundation
import Repository
import Support
import Testing
@testable import Capture

/// The catalog's chain kept in a (local) repository: uploads in segments, catch-up after an interruption,
/// concurrent uploads, and what `compare` says.
@Suite struct ChainMirrorTests {
    final class Place {
        let path = NSTemporaryDirectory() + "valkyrie-chain-\(UUID().uuidString.prefix(8))"
        let catalog: Catalog
        let repository: Repository

        init() async throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            catalog = try Catalog.open(at: "\(path)/catalog.db", mode: .create, origin: EventOrigin(host: "vh1", uid: 0, user: "root"))
            repository = try await Repository.initialize(backend: LocalBackend(path: "\(path)/repo"),
                                                         slot: .passphrase(Data("chain".utf8), cost: .interactive), label: "test")
        }

        func append(_ count: Int) throws {
            for start in stride(from: 0, to: count, by: 500) {
                try catalog.append((start..<min(start + 500, count)).map { n in
                    try EventDraft(VerifyCompleted(checkedPacks: n, problems: []))
                })
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test func aLongBacklogGoesUpInSegmentsAndReadsBackWhole() async throws {
        let place = try await Place()
        #expect(try await ChainMirror.upload(place.catalog, to: place.repository) == nil)  // nothing to upload yet
        try place.append(2500)
        #expect(try ChainMirror.isPending(place.catalog, repository: place.repository))
        #expect(try await ChainMirror.compare(place.catalog, with: place.repository).state == .missing)
        let upload = try #require(try await ChainMirror.upload(place.catalog, to: place.repository))
        #expect(upload.uploaded == 2500 && upload.head == 2500)
        let chain = try #require(try place.catalog.chainID())
        #expect(try await place.repository.chainSegments(chain).count == 3)
        let copy = try await ChainMirror.read(chain, from: place.repository)
        #expect(copy.events == (try place.catalog.chainEvents(after: 0)) && copy.head?.seq == 2500)
        #expect(!(try ChainMirror.isPending(place.catalog, repository: place.repository)))
        #expect(try await ChainMirror.compare(place.catalog, with: place.repository).state == .same)
        #expect(try await ChainMirror.upload(place.catalog, to: place.repository)?.uploaded == 0)
    }

    @Test func anInterruptedUploadIsCaughtUpAndOverlapsReadBackOnce() async throws {
        let place = try await Place()
        try place.append(10)
        try await ChainMirror.upload(place.catalog, to: place.repository)
        try place.append(5)
        // Interrupted after its segment landed, before the head: the segment is there, the head is old.
        let chain = try #require(try place.catalog.chainID())
        let landed = ChainSegment(chain: chain, events: try place.catalog.chainEvents(after: 10))
        try await place.repository.storeChainSegment(chain, try JSONFormat.encoder().encode(landed))
        let pending = try await ChainMirror.compare(place.catalog, with: place.repository)
        #expect(pending.state == .pending && pending.problem?.contains("11...15") == true)
        try place.append(1)
        #expect(try await ChainMirror.upload(place.catalog, to: place.repository)?.uploaded == 6)
        let copy = try await ChainMirror.read(chain, from: place.repository)
        #expect(copy.events.count == 16 && copy.head?.seq == 16)
    }

    @Test func concurrentUploadsNeverMoveTheHeadBack() async throws {
        let place = try await Place()
        let catalog = place.catalog, repository = place.repository
        try place.append(3)
        for _ in 0..<5 {
            try place.append(7)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await ChainMirror.upload(catalog, to: repository) } }
                try await group.waitForAll()
            }
            #expect(try await ChainMirror.compare(place.catalog, with: place.repository).state == .same)
        }
    }

    /// The confirmation after the head is committed without an fsync. A crash may lose it (never the synced
    /// appends): the catalog as such a crash leaves it sees its chain pending, finds the repository's head equal
    /// to its own event, uploads nothing and confirms again; the writer is back at `synchronous = FULL`.
    @Test func aConfirmationLostInACrashIsMadeAgainByTheNextUpload() async throws {
        let place = try await Place()
        try place.append(10)
        try await ChainMirror.upload(place.catalog, to: place.repository)
        try place.append(5)
        let crashed = place.path + "/crashed.db"
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: "\(place.path)/catalog.db\(suffix)") {
            try FileManager.default.copyItem(atPath: "\(place.path)/catalog.db\(suffix)", toPath: crashed + suffix)
        }
        #expect(try await ChainMirror.upload(place.catalog, to: place.repository)?.uploaded == 5)
        #expect(try place.catalog.settings().synchronous == 2)
        #expect(try place.catalog.confirmedHead(in: place.repository.config.id)?.seq == 15)

        let after = try Catalog.open(at: crashed, mode: .existing, origin: EventOrigin(host: "vh1", uid: 0, user: "root"))
        #expect(try after.confirmedHead(in: place.repository.config.id)?.seq == 10)
        #expect(try ChainMirror.isPending(after, repository: place.repository))
        #expect(try await ChainMirror.compare(after, with: place.repository).state == .same)
        let again = try await ChainMirror.upload(after, to: place.repository)
        #expect(again?.uploaded == 0 && again?.head == 15)
        #expect(try after.confirmedHead(in: place.repository.config.id)?.seq == 15)
        #expect(!(try ChainMirror.isPending(after, repository: place.repository)))
        #expect(try after.settings().synchronous == 2)
    }

    @Test func aHeadBehindTheConfirmedOneIsARollbackAndUploadIsRefused() async throws {
        let place = try await Place()
        try place.append(4)
        try await ChainMirror.upload(place.catalog, to: place.repository)
        let chain = try #require(try place.catalog.chainID())
        let old = try #require(try await place.repository.chainHead(chain))
        try place.append(4)
        try await ChainMirror.upload(place.catalog, to: place.repository)
        try await place.repository.writeChainHead(old)
        let compared = try await ChainMirror.compare(place.catalog, with: place.repository)
        #expect(compared.state == .rollback && compared.problem?.contains("possible rollback") == true)
        await #expect(throws: ChainMirror.Refusal.self) { try await ChainMirror.upload(place.catalog, to: place.repository) }
        #expect(try await place.repository.chainHead(chain) == old)
        try await ChainMirror.upload(place.catalog, to: place.repository, acceptRollback: true)
        #expect(try await ChainMirror.compare(place.catalog, with: place.repository).state == .same)
    }
}
