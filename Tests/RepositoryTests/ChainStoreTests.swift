import Foundation
import Support
import Testing
@testable import Repository

/// `chains/`: opaque event segments (content-addressed) and one rewritable head per chain.
@Suite struct ChainStoreTests {
    static let chain = "5f0c6a8e-2b1d-4c3a-9e7f-0123456789ab"

    @Test func segmentsAndTheHeadRoundTripAndTheHeadMoves() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        #expect(try await repository.chainIDs().isEmpty)
        #expect(try await repository.chainHead(Self.chain) == nil)
        let segment = Data(#"{"events":[1,2]}"#.utf8)
        try await repository.storeChainSegment(Self.chain, segment)
        try await repository.storeChainSegment(Self.chain, segment)  // again: harmless
        try await repository.storeChainSegment(Self.chain, Data(#"{"events":[3]}"#.utf8))
        let first = RepositoryChainHead(chain: Self.chain, host: "vh1", seq: 2, hash: String(repeating: "a", count: 64),
                                        written: Date(timeIntervalSince1970: 1_795_000_000))
        try await repository.writeChainHead(first)
        var moved = first
        moved.seq = 3
        try await repository.writeChainHead(moved)

        let reopened = try await Fixture.reopen(scratch.path)
        #expect(try await reopened.chainIDs() == [Self.chain])
        #expect(try await reopened.chainHead(Self.chain) == moved)
        #expect(Set(try await reopened.chainSegments(Self.chain)) == [segment, Data(#"{"events":[3]}"#.utf8)])
        // At rest nothing is readable: not the host, not the events.
        for object in try await reopened.backend.list(prefix: "chains/") {
            let stored = try await reopened.backend.get(object.name)
            #expect(stored.range(of: Data("vh1".utf8)) == nil && stored.range(of: Data("events".utf8)) == nil)
        }
    }

    @Test func aDamagedOrMovedHeadAndABadChainIDAreRefused() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let other = "a1b2c3d4-e5f6-4789-8abc-def012345678"
        try await repository.writeChainHead(RepositoryChainHead(chain: other, host: "vh2", seq: 1, hash: "00", written: Date()))
        // Another chain's head copied over this one's: it authenticates, but names the other chain.
        try FileManager.default.createDirectory(atPath: "\(scratch.path)/chains/\(Self.chain)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(scratch.path)/chains/\(other)/head", toPath: "\(scratch.path)/chains/\(Self.chain)/head")
        await #expect(throws: OperatorError.self) { try await repository.chainHead(Self.chain) }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/chains/\(other)/head"))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: "\(scratch.path)/chains/\(other)/head"))
        await #expect(throws: OperatorError.self) { try await repository.chainHead(other) }
        await #expect(throws: OperatorError.self) { try await repository.chainHead("../keys") }
        await #expect(throws: OperatorError.self) { try await repository.storeChainSegment("NOT-A-CHAIN", Data()) }
    }
}
