import Catalog
import Foundation
import Repository
import Retention
import Support
import Testing

/// forget and prune against a real catalog and repository: what leaves `sets`, what stays in the log, what the
/// repository loses, and that every remaining set still restores bit for bit.
@Suite struct ForgetTests {
    static let passphrase = Data("retention test passphrase".utf8)

    /// A folder with a catalog and a repository, removed afterwards.
    final class Place {
        let path = NSTemporaryDirectory() + "valkyrie-retention-\(UUID().uuidString.prefix(8))"
        init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func catalog() throws -> Catalog {
            try Catalog.open(at: path + "/catalog.db", mode: .create, origin: EventOrigin(host: "vh1", uid: 0, user: "root"))
        }

        func repository() async throws -> Repository {
            let backend = LocalBackend(path: path + "/repo")
            if try await backend.size("config") == nil {
                return try await Repository.initialize(backend: backend, slot: .passphrase(ForgetTests.passphrase, cost: .interactive),
                                                       label: "test")
            }
            return try await Repository.open(backend: backend, unlock: [.passphrase(ForgetTests.passphrase)])
        }
    }

    static func random(_ count: Int, seed: UInt64) -> Data {
        var state = seed
        var out = Data(capacity: count + 8)
        while out.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { out.append(contentsOf: $0) }
        }
        return out.prefix(count)
    }

    /// A complete set in the catalog (started at `started`, a client's claim) and its snapshot: one file of
    /// its own plus a file every set shares.
    @discardableResult
    static func backup(_ catalog: Catalog, _ repository: Repository, started: Date, seed: UInt64) async throws -> (SetRecord, Data) {
        let set = try catalog.startSet(host: "vh1", startedAt: started, valkyrieVersion: "test", items: ["files"])
        let own = random(700_000, seed: seed)
        let writer = try await repository.beginSet()
        let ownNode = try await writer.storeFile(own, name: "own")
        let shared = try await writer.storeFile(random(300_000, seed: 999), name: "shared")
        let tree = try await writer.storeTree(Tree(nodes: [ownNode, shared]))
        _ = try await writer.commit(metadata: .object(["set": .string(set.id.uuidString)]), roots: ["files": .tree(tree)],
                                    time: started)
        try catalog.append(BackupCompleted(set: set.id))
        return (try catalog.requireSet(set.id.uuidString), own)
    }

    /// Restores `set`'s files and checks them against what was stored.
    static func restoresBitIdentical(_ repository: Repository, set: UUID, own: Data, into folder: String) async throws {
        let snapshot = try #require(try await SetSnapshots.map(repository)[set])
        guard case let .tree(tree) = try #require(try await repository.snapshot(snapshot.id).roots["files"]) else {
            Issue.record("not a tree")
            return
        }
        _ = try await Restorer(repository: repository, restoreOwners: false).restoreTree(tree, into: folder)
        #expect(FileManager.default.contents(atPath: folder + "/own") == own)
        #expect(FileManager.default.contents(atPath: folder + "/shared") == random(300_000, seed: 999))
    }

    @Test("forget keep-last 2: the others leave sets (history stays in the log), their snapshots go; prune reclaims their data and the rest restores bit-identical")
    func forgetThenPrune() async throws {
        let place = Place()
        let catalog = try place.catalog()
        let repository = try await place.repository()
        let now = Date()
        var made: [(SetRecord, Data)] = []
        for i in 0..<4 {
            made.append(try await Self.backup(catalog, repository, started: now.addingTimeInterval(Double(i - 4) * 3600), seed: UInt64(i)))
        }
        let dry = try await Forgetter(catalog: catalog, repository: repository).forget(policy: RetentionPolicy(last: 2), dryRun: true)
        #expect(dry.forgotten == 2 && dry.removedSnapshots == 0)
        #expect(try catalog.sets().count == 4, "a dry run changes nothing")

        let report = try await Forgetter(catalog: catalog, repository: repository).forget(policy: RetentionPolicy(last: 2))
        #expect(Set(report.sets.filter { !$0.keep }.map(\.set)) == Set(made.prefix(2).map(\.0.id)))
        #expect(report.removedSnapshots == 2)
        #expect(try catalog.sets().map(\.id) == made.suffix(2).map(\.0.id))
        let forgottenEvents = try catalog.events(EventFilter(type: .setForgotten))
        #expect(forgottenEvents.count == 2)
        #expect(try catalog.events(EventFilter(set: made[0].0.id)).map(\.type) == [.backupStarted, .backupCompleted, .setForgotten])
        #expect(try await repository.snapshots().count == 2)

        let pruned = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune(recordingIn: catalog)
        // Each forgotten set had 700,000 incompressible bytes of its own.
        #expect(pruned.reclaimedBytes >= 1_400_000, "\(pruned)")
        #expect(try catalog.events(EventFilter(type: .pruneCompleted)).count == 1)
        let verify = try await Verifier(repository: try await place.repository()).verify(readPercent: 100)
        #expect(verify.isClean && verify.unindexedPacks == 0, "\(verify.problems)")
        for (set, own) in made.suffix(2) {
            try await Self.restoresBitIdentical(try await place.repository(), set: set.id, own: own, into: place.path + "/r-\(set.ordinal)")
        }
    }

    @Test("a set recorded with a forged future start cannot push real sets out of keep-daily or keep-last; keep-proven pins drilled sets")
    func forgedFutureSet() async throws {
        let place = Place()
        let catalog = try place.catalog()
        let repository = try await place.repository()
        let now = Date()
        let r1 = try await Self.backup(catalog, repository, started: now.addingTimeInterval(-3 * 86400), seed: 1).0
        let r2 = try await Self.backup(catalog, repository, started: now.addingTimeInterval(-2 * 86400), seed: 2).0
        let forged = try await Self.backup(catalog, repository, started: now.addingTimeInterval(400 * 86400), seed: 3).0
        let r3 = try await Self.backup(catalog, repository, started: now.addingTimeInterval(-1 * 86400), seed: 4).0
        let forgetter = Forgetter(catalog: catalog, repository: repository)
        // A drill proved the oldest set: --keep-proven pins it; a failed drill pins nothing.
        let drill = UUID(), failed = UUID()
        try catalog.append(DrillStarted(drill: drill, set: r1.id))
        try catalog.append(DrillCompleted(drill: drill, set: r1.id, passed: true))
        try catalog.append(DrillStarted(drill: failed, set: r2.id))
        try catalog.append(DrillCompleted(drill: failed, set: r2.id, passed: false))
        let proven = try await forgetter.forget(policy: RetentionPolicy(last: 1, proven: 2), dryRun: true)
        #expect(Set(proven.sets.filter(\.keep).map(\.set)) == [r1.id, r3.id])
        let daily = try await forgetter.forget(policy: RetentionPolicy(daily: 3), dryRun: true)
        #expect(Set(daily.sets.filter(\.keep).map(\.set)) == [r1.id, r2.id, r3.id])
        let last = try await forgetter.forget(policy: RetentionPolicy(last: 1))
        #expect(last.sets.filter(\.keep).map(\.set) == [r3.id])
        #expect(try catalog.sets().map(\.id) == [r3.id])
        #expect(try catalog.sets(all: true).first { $0.id == forged.id }?.forgottenAt != nil)
    }

    @Test("forget --all forgets every listed set; an interrupted forget's leftover snapshot goes on the next run")
    func forgetAll() async throws {
        let place = Place()
        let catalog = try place.catalog()
        let repository = try await place.repository()
        let (set, _) = try await Self.backup(catalog, repository, started: Date().addingTimeInterval(-60), seed: 7)
        // As if a forget recorded the event and died before removing the snapshot.
        try catalog.append(SetForgotten(set: set.id, reason: "test"))
        #expect(try await repository.snapshots().count == 1)
        let report = try await Forgetter(catalog: catalog, repository: repository).forget(policy: nil)
        #expect(report.sets.isEmpty && report.removedSnapshots == 1)
        #expect(try await repository.snapshots().isEmpty)
    }

    @Test("verify --read-data=25 four times: each run is an event, and only after every subset was read does each set get its read-back time")
    func readBackRecorded() async throws {
        let place = Place()
        let catalog = try place.catalog()
        let repository = try await place.repository()
        var sets: [SetRecord] = []
        for i in 0..<3 { sets.append(try await Self.backup(catalog, repository, started: Date().addingTimeInterval(Double(i - 3)), seed: UInt64(i)).0) }
        let verifier = Verifier(repository: repository)
        #expect(try catalog.lastDataReadBack().isEmpty)
        let started = Date()
        var read = 0
        for run in 1...4 {
            let (report, event) = try await verifier.verify(readPercent: 25, recordingIn: catalog)
            #expect(report.isClean)
            #expect(event.subset == run && event.subsets == 4 && event.packsRead == report.packsRead)
            read += report.packsRead
        }
        #expect(read == (try await verifier.verify()).packs, "four runs of 25% read every pack exactly once")
        #expect(try catalog.events(EventFilter(type: .verifyCompleted)).count == 4)
        let readBack = try catalog.lastDataReadBack()
        #expect(Set(readBack.keys) == Set(sets.map(\.id)))
        #expect(readBack.values.allSatisfy { $0 >= started.addingTimeInterval(-1) })
        // A structure-only run reads no data and leaves the read-back times as they were.
        _ = try await verifier.verify(readPercent: nil, recordingIn: catalog)
        #expect(try catalog.lastDataReadBack() == readBack)
    }
}
