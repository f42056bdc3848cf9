import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

/// Chains copied out of a catalog and back in (`catalog rebuild --from-repository`), this host's and others'.
@Suite struct ChainCopyTests {
    @Test func aCopiedChainContinuesWithTheSameHashesAndProjections() throws {
        try Fixture.withDirectory { dir in
            let original = try Fixture.catalog(dir, name: "a.db")
            try Fixture.history(original)
            let copy = try Fixture.catalog(dir, name: "b.db")
            #expect(try copy.isEmpty())
            try copy.importChains(own: try original.chainEvents(after: 0), peers: [])
            #expect(try copy.events() == original.events())
            #expect(try copy.chainID() == original.chainID())
            for table in Projector.tables { #expect(try Fixture.rows(copy, table) == Fixture.rows(original, table), "\(table)") }
            let sets = try original.sets()
            #expect(try sets.map { try copy.details(of: $0) } == sets.map { try original.details(of: $0) })
            // The next event chains onto the copied head, exactly as it would have onto the original's.
            let next = try copy.append(VerifyCompleted(checkedPacks: 1, problems: []))
            let head = try original.head()
            #expect(next.seq == head.seq + 1 && next.previousHash.hexString == head.hash)
            #expect(try copy.verifyChain().ok)
            #expect(throws: OperatorError.self) { try copy.importChains(own: try original.chainEvents(after: 0), peers: []) }
        }
    }

    @Test func anotherHostsChainIsKeptBesideAndProjectedWithoutCollisions() throws {
        try Fixture.withDirectory { dir in
            let mine = try Fixture.catalog(dir, name: "a.db")
            try Fixture.history(mine)
            let theirs = try Catalog.open(at: dir + "/b.db", mode: .create, origin: EventOrigin(host: "vh3", uid: 0, user: "root"))
            let set = try Fixture.completedSet(theirs, host: "vh3", minutes: 5)
            // Same sequence numbers as `mine`'s export and restore rows: keyed by chain, they do not collide.
            try theirs.append(ExportRecorded(set: set.id, export: "vault-keys", recipients: ["F"], vaults: ["v"], digest: "e", size: 1))
            try theirs.append(FileRestored(set: set.id, item: "etc", path: "/etc/x", target: "/tmp/x", size: 1, digest: "d"))
            let joined = try Fixture.catalog(dir, name: "c.db")
            try joined.importChains(own: try mine.chainEvents(after: 0), peers: [try theirs.chainEvents(after: 0)])
            #expect(try joined.sets().map(\.name).sorted() == (try mine.sets() + theirs.sets()).map(\.name).sorted())
            #expect(try joined.details(of: set).exports.count == 1 && joined.details(of: set).restores.count == 1)
            #expect(try joined.events() == mine.events())
            let peers = try joined.peerChains()
            let theirID = try theirs.chainID(), theirHead = try theirs.head()
            #expect(peers.map(\.chain) == [theirID] && peers.first?.hosts == ["vh3"])
            #expect(peers.first?.head == theirHead)
            #expect(try joined.verifyChain().ok)
            // A replay gives the same rows.
            let before = try Projector.tables.map { try Fixture.rows(joined, $0) }
            try joined.rebuild()
            #expect(try Projector.tables.map { try Fixture.rows(joined, $0) } == before)
        }
    }

    @Test func aBrokenOrRewrittenChainIsRefusedWritingNothing() throws {
        try Fixture.withDirectory { dir in
            let original = try Fixture.catalog(dir, name: "a.db")
            try Fixture.history(original)
            let events = try original.chainEvents(after: 0)
            let target = try Fixture.catalog(dir, name: "b.db")
            var rewritten = events
            rewritten[2].payload = #"{"forged":true,"# + rewritten[2].payload.dropFirst()
            var gap = events
            gap.remove(at: 4)
            for broken in [rewritten, gap, Array(events.dropFirst())] {
                #expect(ChainEvent.problem(in: broken) != nil)
                #expect(throws: OperatorError.self) { try target.importChains(own: broken, peers: []) }
                #expect(throws: OperatorError.self) { try target.importChains(own: events, peers: [broken]) }
                #expect(try target.isEmpty())
            }
            #expect(ChainEvent.problem(in: events) == nil)
        }
    }

    @Test func theConfirmedHeadOnlyMovesForward() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            try Fixture.history(catalog)
            #expect(try catalog.confirmedHead(in: "r1") == nil)
            try catalog.confirm(5, in: "r1")
            try catalog.confirm(3, in: "r1")
            let confirmed = try #require(try catalog.confirmedHead(in: "r1"))
            let chain = try catalog.chainID()
            #expect(confirmed.seq == 5 && confirmed.chain == chain)
            let fifth = try catalog.chainEvent(5)
            #expect(confirmed.hash == fifth?.hash.hexString)
        }
    }
}
