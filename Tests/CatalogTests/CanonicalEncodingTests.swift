import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

/// The vectors of catalog/canonical-encoding.md; the digests were computed with Python's hashlib from that
/// page alone, so these tests prove the document and the code agree.
@Suite struct CanonicalEncodingTests {
    static let first = EventFields(
        seq: 1, uuid: "5F0C6A8E-2B1D-4C3A-9E7F-0123456789AB", type: "repository.initialized", version: 1,
        occurredAt: "2026-11-29T00:11:07.123456Z", recordedAt: "2026-11-29T00:11:07.200000Z", host: "vh1",
        actorUID: 0, actorName: "root", setID: nil,
        payload: Data(#"{"keySlots":["gpg","tpm"],"location":"/srv/repo","repositoryID":"r1"}"#.utf8))
    static let second = EventFields(
        seq: 2, uuid: "A1B2C3D4-E5F6-4789-8ABC-DEF012345678", type: "backup.started", version: 1,
        occurredAt: "2026-11-29T00:12:00.000001Z", recordedAt: "2026-11-29T00:12:00.000002Z", host: "vh1",
        actorUID: 0, actorName: "root", setID: "0D4E2C9A-7B6F-4E1D-8C3B-A29F18E7D6C5",
        payload: Data(#"{"host":"vh1","items":["postgres"],"name":"20261129T001200Z_vh1","ordinal":1,"set":"0D4E2C9A-7B6F-4E1D-8C3B-A29F18E7D6C5","valkyrieVersion":"0.1.0"}"#.utf8))

    @Test func encodingOfTheFirstVector() {
        let encoded = CanonicalEncoding.encode(Self.first)
        #expect(encoded.count == 255)
        // tag: length 16, "valkyrie-event-1"; then seq: length 1, "1"; then the UUID: length 36, "5...".
        #expect(encoded.prefix(30).hexString == "0000001076616c6b797269652d6576656e742d3100000001310000002435")
    }

    @Test func chainHashesOfTheVectors() {
        let h1 = CanonicalEncoding.hash(previous: CanonicalEncoding.genesis, Self.first)
        #expect(h1.hexString == "7792c9aba9606821e1e26ff592077b2371aa576add95bc31cb345ba42ba405f3")
        let h2 = CanonicalEncoding.hash(previous: h1, Self.second)
        #expect(h2.hexString == "c39c74cf3b78371aa8c3c8719ebd5dc25770a65283c610304ba2c65839187c29")
    }

    @Test func typedPayloadsEncodeToTheVectorBytes() throws {
        let initialized = try EventDraft(RepositoryInitialized(location: "/srv/repo", repositoryID: "r1", keySlots: ["gpg", "tpm"]))
        #expect(initialized.payload == Self.first.payload)
        let set = UUID(uuidString: "0D4E2C9A-7B6F-4E1D-8C3B-A29F18E7D6C5")!
        let started = try EventDraft(BackupStarted(set: set, name: "20261129T001200Z_vh1", host: "vh1", ordinal: 1,
                                                   valkyrieVersion: "0.1.0", items: ["postgres"]))
        #expect(started.payload == Self.second.payload)
        #expect(started.set == set)
    }

    @Test func everyFieldIsCovered() {
        let base = CanonicalEncoding.hash(previous: CanonicalEncoding.genesis, Self.second)
        var changes: [EventFields] = []
        for change in 0..<11 {
            var f = Self.second
            switch change {
            case 0: f.seq = 3
            case 1: f.uuid = "A1B2C3D4-E5F6-4789-8ABC-DEF012345679"
            case 2: f.type = "backup.startex"
            case 3: f.version = 2
            case 4: f.occurredAt = "2026-11-29T00:12:00.000009Z"
            case 5: f.recordedAt = "2026-11-29T00:12:00.000009Z"
            case 6: f.host = "vh2"
            case 7: f.actorUID = 1000
            case 8: f.actorName = "rooT"
            case 9: f.setID = nil
            default: f.payload = Data("{}".utf8)
            }
            changes.append(f)
        }
        for changed in changes {
            #expect(CanonicalEncoding.hash(previous: CanonicalEncoding.genesis, changed) != base)
        }
        // Moving a byte from one field to the next changes the encoding (lengths make it unambiguous).
        var shifted = Self.second
        shifted.host = "vh"
        shifted.actorName = "1" + shifted.actorName
        #expect(CanonicalEncoding.encode(shifted) != CanonicalEncoding.encode(Self.second))
    }

    @Test func appendedEventsCarryTheDocumentedHash() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let events = try catalog.append([
                try EventDraft(RepositoryInitialized(location: "/srv/repo", repositoryID: "r1", keySlots: [])),
                try EventDraft(VerifyCompleted(checkedPacks: 1, problems: [])),
            ])
            let stored = try catalog.read { db in try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY seq") }
            #expect(events[0].previousHash == CanonicalEncoding.genesis)
            #expect(events[1].previousHash == events[0].hash)
            for (event, row) in zip(events, stored) {
                let fields = EventFields(row: row)
                #expect(CanonicalEncoding.hash(previous: event.previousHash, fields) == event.hash)
                #expect(fields.occurredAt.count == 27 && fields.occurredAt.hasSuffix("Z"))
            }
        }
    }

    /// A batch longer than one INSERT statement's rows (two full statements and a remainder) is stored in order,
    /// every row chained onto the one before with its documented hash, and returned as stored; a batch whose last
    /// event fails leaves nothing behind.
    @Test func batchesSpanningSeveralStatementsChainRowByRow() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let set = try catalog.startSet(host: "vh1", valkyrieVersion: "0.1.0", items: ["etc"])
            let count = 2 * Catalog.rowsPerStatement + 5
            let drafts = try (0..<count).map { n in
                n % 3 == 0 ? try EventDraft(VerifyCompleted(checkedPacks: n, problems: []))
                    : try EventDraft(FileRestored(set: set.id, item: "etc", path: "/etc/f\(n)", target: "/tmp/r", size: Int64(n), digest: "d"))
            }
            let events = try catalog.append(drafts)
            #expect(events.map(\.seq) == Array(2...Int64(count + 1)))
            #expect(try catalog.events().dropFirst().map { $0 } == events)
            let stored = try catalog.read { db in try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq > 1 ORDER BY seq") }
            var previous = try #require(catalog.events().first).hash
            for (event, row) in zip(events, stored) {
                #expect(event.previousHash == previous)
                #expect(CanonicalEncoding.hash(previous: previous, EventFields(row: row)) == event.hash)
                previous = event.hash
            }
            #expect(try catalog.verifyChain().ok)
            #expect(try catalog.details(of: catalog.requireSet(set.name)).restores.count == count - (count + 2) / 3)
            let head = try catalog.head()
            let again = BackupStarted(set: set.id, name: set.name, host: "vh1", ordinal: 2, valkyrieVersion: "0.1.0", items: [])
            #expect(throws: (any Error).self) { try catalog.append(drafts + [try EventDraft(again)]) }
            #expect(try catalog.head() == head)
        }
    }
}

