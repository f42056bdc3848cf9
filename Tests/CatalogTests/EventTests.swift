import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

@Suite struct EventTests {
    @Test func everyKnownTypeRoundTrips() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let set = UUID(), drill = UUID()
            let payloads: [any EventPayload] = [
                RepositoryInitialized(location: "s3://b/p", repositoryID: "r", keySlots: ["gpg"]),
                BackupStarted(set: set, name: "20261129T000000Z_vh1", host: "vh1", ordinal: 1, valkyrieVersion: "0.1.0", items: ["etc"]),
                ItemCaptured(set: set, item: "swtpm", root: "t", digest: "d", size: 5, files: 2, keyMaterial: true, warnings: ["w"]),
                BackupCompleted(set: set, warnings: []),
                BackupFailed(set: set, error: "boom", item: "postgres"),
                ExportRecorded(set: set, export: "vault-key", vault: "v1", recipients: ["F"], vaults: ["v1"], digest: "x", size: 9),
                SetForgotten(set: set, reason: "keep-daily 7"),
                PruneCompleted(removedPacks: 1, removedBytes: 2, keptPacks: 3),
                VerifyCompleted(checkedPacks: 4, readDataPercent: 12.5, problems: ["p"]),
                DrillStarted(drill: drill, set: set),
                DrillCheck(drill: drill, set: set, name: "db", passed: true, evidence: "ok"),
                DrillCompleted(drill: drill, set: set, passed: true, report: "r.md"),
                FileRestored(set: set, item: nil, path: "/finance/q3.xlsx", vault: "v1", target: "/tmp/x", size: 7, digest: "h"),
                KeyExtracted(set: set, vault: "v1", keyVersion: 3, recipients: ["F"]),
                ChainAnchored(seq: 12, hash: String(repeating: "0", count: 64), location: "chain/head"),
            ]
            #expect(Set(payloads.map { type(of: $0).type }) == Set(KnownEvents.byType.keys))
            for payload in payloads { try catalog.append(payload) }
            let events = try catalog.events()
            #expect(events.count == payloads.count)
            for (payload, event) in zip(payloads, events) {
                #expect(event.isKnown)
                #expect(event.version == 1)
                let decodedEqual = roundTrips(payload, event)
                #expect(decodedEqual, "\(event.type)")
                #expect(event.set == payload.setID)
                #expect(event.host == "vh1" && event.actorName == "root" && event.actorUID == 0)
            }
        }
    }

    private func roundTrips<P: EventPayload>(_ payload: P, _ event: StoredEvent) -> Bool {
        event.decode(P.self) == payload
    }

    @Test func unknownNewerTypesAreKeptAndShown() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let payload = Data(#"{"future":true,"n":3}"#.utf8)
            try catalog.append([try EventDraft(type: "quorum.sealed", version: 9, payload: payload, set: nil, occurredAt: Date())])
            let event = try #require(try catalog.events().first)
            #expect(!event.isKnown)
            #expect(event.type.rawValue == "quorum.sealed" && event.version == 9)
            #expect(event.payload == payload)
            #expect(event.payloadJSON == .object(["future": .bool(true), "n": .integer(3)]))
            let json = String(decoding: try JSONFormat.encoder().encode(event), as: UTF8.self)
            #expect(json.contains(#""payload":{"future":true,"n":3}"#) && json.contains(#""known":false"#))
            #expect(try catalog.rebuild().events == 1)
            #expect(try catalog.verifyChain().ok)
            #expect(throws: OperatorError.self) {
                try EventDraft(type: "x.y", version: 1, payload: Data("[1]".utf8), set: nil, occurredAt: Date())
            }
        }
    }

    @Test func aNewerVersionOfAKnownTypeStillProjects() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let set = try catalog.startSet(host: "vh1", startedAt: Fixture.start, valkyrieVersion: "0.1.0", items: [])
            let newer = Data(#"{"set":"\#(set.id.uuidString)","warnings":[],"signedBy":"future"}"#.utf8)
            try catalog.append([try EventDraft(type: .backupCompleted, version: 2, payload: newer, set: set.id, occurredAt: Date())])
            #expect(try catalog.requireSet(set.name).status == .complete)
        }
    }

    @Test func setsGetNamesOrdinalsAndStatuses() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let sets = try Fixture.history(catalog)
            let (first, partial, failed, running, other, forgotten) = (sets[0], sets[1], sets[2], sets[3], sets[4], sets[5])
            #expect(first.name == UTCTime.compact(Fixture.start) + "_vh1")
            #expect(first.status == .complete && first.items == 3 && first.size == 3000)
            #expect(partial.status == .partial && partial.warnings == ["vault body changed during capture"])
            #expect(failed.status == .failed && failed.error == "pg_dump failed")
            #expect(running.status == .running && running.finishedAt == nil)
            #expect([first, partial, failed, running].map(\.ordinal) == [1, 2, 3, 4])
            #expect([other, forgotten].map(\.ordinal) == [1, 2])
            #expect(forgotten.forgottenAt != nil && !forgotten.isListed)
            #expect(try catalog.sets().map(\.name) == [first.name, other.name, partial.name])
            #expect(try catalog.sets(all: true).count == 6)
            #expect(try catalog.sets(host: "vh2").map(\.name) == [other.name])
            #expect(try catalog.latestSet(host: "vh1") == partial)
            #expect(try catalog.set(first.id.uuidString.lowercased()) == first)

            let details = try catalog.details(of: first)
            #expect(details.items.map(\.item).sorted() == ["etc", "postgres", "var-lib"])
            #expect(details.exports.map(\.vaults) == [["v1", "v2"]])
            #expect(details.drills.count == 1)
            #expect(details.drills[0].status == .failed && details.drills[0].passed == 1 && details.drills[0].failed == 1)
            #expect(details.drills[0].checks.map(\.name) == ["database", "swtpm"])
            #expect(details.restores.map(\.kind) == [.file, .key])
        }
    }

    /// `sets`' last drill per set (one query) is the newest finished one of `details(of:)`, running ones skipped.
    @Test func lastFinishedDrillsPerSet() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let sets = try Fixture.history(catalog)
            let (first, other) = (sets[0], sets[4])
            let passed = UUID(), running = UUID(), failing = UUID(), tie = UUID()
            let later = Date().addingTimeInterval(86_400)  // after the history's own drill, which started now
            try catalog.append([
                try EventDraft(DrillStarted(drill: passed, set: first.id), occurredAt: later.addingTimeInterval(500)),
                try EventDraft(DrillCompleted(drill: passed, set: first.id, passed: true, report: "ok"), occurredAt: later.addingTimeInterval(600)),
                try EventDraft(DrillStarted(drill: running, set: first.id), occurredAt: later.addingTimeInterval(700)),
                try EventDraft(DrillStarted(drill: failing, set: other.id), occurredAt: later.addingTimeInterval(500)),
                try EventDraft(DrillCompleted(drill: failing, set: other.id, passed: false, report: "no"), occurredAt: later.addingTimeInterval(800)),
                // Started in the same microsecond as `failing`, recorded after it: the newer one.
                try EventDraft(DrillStarted(drill: tie, set: other.id), occurredAt: later.addingTimeInterval(500)),
                try EventDraft(DrillCompleted(drill: tie, set: other.id, passed: true, report: "ok"), occurredAt: later.addingTimeInterval(900)),
            ])
            let last = try catalog.lastFinishedDrills()
            for set in try catalog.sets() {
                #expect(last[set.id]?.id == (try catalog.details(of: set).drills.last { $0.status != .running })?.id, "\(set.name)")
            }
            #expect(last[first.id]?.id == passed && last[first.id]?.status == .passed)
            #expect(last[other.id]?.id == tie && last[other.id]?.status == .passed)
            #expect(last[sets[1].id] == nil)
        }
    }

    @Test func aSecondSetInTheSameSecondIsRefused() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            _ = try catalog.startSet(host: "vh1", startedAt: Fixture.start, valkyrieVersion: "0.1.0", items: [])
            #expect(throws: OperatorError.self) {
                try catalog.startSet(host: "vh1", startedAt: Fixture.start, valkyrieVersion: "0.1.0", items: [])
            }
            #expect(throws: OperatorError.self) {
                try catalog.startSet(host: "../etc", startedAt: Fixture.start, valkyrieVersion: "0.1.0", items: [])
            }
            #expect(try catalog.events().count == 1)
        }
    }

    @Test func logFilters() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let sets = try Fixture.history(catalog)
            let all = try catalog.events()
            #expect(all.map(\.seq) == Array(1...Int64(all.count)))
            let completed = try catalog.events(EventFilter(type: .backupCompleted))
            #expect(completed.count == 4 && completed.allSatisfy { $0.type == .backupCompleted })
            let ofFirst = try catalog.events(EventFilter(set: sets[0].id))
            #expect(ofFirst.allSatisfy { $0.set == sets[0].id })
            #expect(ofFirst.map(\.type.rawValue).contains("future.audit"))
            #expect(ofFirst.count == 13)
            let late = try catalog.events(EventFilter(since: Fixture.start.addingTimeInterval(9999)))
            #expect(late.map(\.type.rawValue).contains("future.audit"))
            #expect(!late.contains { $0.type == .backupStarted })
            #expect(try catalog.events(EventFilter(limit: 2)).map(\.seq) == [all.count - 1, all.count].map(Int64.init))
        }
    }
}
