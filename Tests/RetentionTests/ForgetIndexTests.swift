import Capture
import Catalog
import Foundation
import POSIX
import Repository
import Restore
import Retention
import Support
import Testing

/// A file unchanged since a forgotten set is still shown by the later sets: forget moves its index rows off the
/// forgotten snapshot, so after prune it still restores (raw path and vault path) from every set that stays.
@Suite struct ForgetIndexTests {
    static let keep = ForgetTests.random(200_000, seed: 42)
    static let keepPath = "/\(SetLayout.varLib)/data/keep"

    /// A set of `var/lib/vaulthalla` holding `data/keep` (the same in every set) and `data/change` (seeded, so the
    /// `data` tree changes each set), a vault index naming `keep` as vault `docs`'s `/report.pdf`, indexed the
    /// way the backup indexes it.
    static func backup(_ catalog: Catalog, _ repository: Repository, started: Date, seed: UInt64) async throws -> SetRecord {
        let set = try catalog.startSet(host: "vh1", startedAt: started, valkyrieVersion: "test", items: [SetLayout.varLib])
        let writer = try await repository.beginSet()
        let fixed = Date(timeIntervalSince1970: 1_700_000_000)
        let keepNode = try await writer.storeFile(keep, name: "keep", mtime: fixed)
        let change = try await writer.storeFile(ForgetTests.random(100_000, seed: seed), name: "change", mtime: fixed)
        let data = try await writer.storeTree(Tree(nodes: [change, keepNode]))
        let root = try await writer.storeTree(Tree(nodes: [Node(name: "data", type: .dir, mode: 0o755, mtime: FileTime(s: 1_700_000_000, ns: 0), subtree: data)]))
        let line = #"{"vault":"docs","vaultID":1,"vaultType":"local","path":"/report.pdf","backingPath":"data/keep","size":200000}"#
        let vaultIndex = try await writer.storeFile(Data((line + "\n").utf8), name: "vault-index.jsonl", mtime: fixed)
        let stored = try await writer.commit(metadata: .object(["set": .string(set.id.uuidString)]),
                                             roots: [SetLayout.varLib: .tree(root), SetLayout.vaultIndex: .file(vaultIndex)], time: started)
        try catalog.append(ItemCaptured(set: set.id, item: SetLayout.varLib, root: root.hex, digest: root.hex, size: 300_000, files: 2))
        try catalog.append(BackupCompleted(set: set.id))
        let record = try catalog.requireSet(set.id.uuidString)
        try catalog.index(record, from: try await CatalogFromRepository.contents(of: record, snapshot: stored.snapshot,
                                                                                 catalog: catalog, repository: repository))
        return record
    }

    /// `forgotten` sets: 1 forgets the first of three, 2 the first two (rows move past a set forgotten in the
    /// same run). `interrupted`: the events were recorded by a forget that died before removing any snapshot.
    @Test("after forget and prune, a file unchanged since a forgotten set restores from every later set, by raw and by vault path",
          arguments: [(1, false), (1, true), (2, false)])
    func unchangedFileSurvives(forgotten: Int, interrupted: Bool) async throws {
        let place = ForgetTests.Place()
        let catalog = try place.catalog()
        let repository = try await place.repository()
        let now = Date()
        var sets: [SetRecord] = []
        for i in 0..<3 {
            sets.append(try await Self.backup(catalog, repository, started: now.addingTimeInterval(Double(i - 3) * 3600), seed: UInt64(i)))
        }
        #expect(try catalog.history(of: Self.keepPath).map(\.firstOrdinal) == [1])

        let forgetter = Forgetter(catalog: catalog, repository: repository)
        if interrupted {
            for set in sets.prefix(forgotten) { try catalog.append(SetForgotten(set: set.id, reason: "test")) }
            let report = try await forgetter.forget(policy: RetentionPolicy(last: 3))
            #expect(report.forgotten == 0 && report.removedSnapshots == forgotten)
        } else {
            let report = try await forgetter.forget(policy: RetentionPolicy(last: 3 - forgotten))
            #expect(report.forgotten == forgotten && report.removedSnapshots == forgotten)
        }
        _ = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune(recordingIn: catalog)

        let reopened = try await place.repository()
        let kept = Array(sets.suffix(3 - forgotten))
        let row = try #require(try catalog.history(of: Self.keepPath).first)
        #expect(row.firstOrdinal == kept[0].ordinal, "the row now starts at the first set that stays")
        for (offset, set) in kept.enumerated() {
            let source = SetSource(catalog: catalog, repository: reopened, record: set)
            let node = try #require(try await source.node(try source.entry(Self.keepPath).entry))
            #expect(try await reopened.read(node, offset: 0, length: Int(node.size)) == Self.keep, "\(set.name) raw path")
            let body = try await source.body(try source.vaultEntry(vault: "docs", "/report.pdf").entry)
            #expect(try await reopened.read(body, offset: 0, length: Int(body.size)) == Self.keep, "\(set.name) vault path")
            let change = try #require(try await source.node(try source.entry("/\(SetLayout.varLib)/data/change").entry))
            #expect(try await reopened.read(change, offset: 0, length: Int(change.size))
                    == ForgetTests.random(100_000, seed: UInt64(forgotten + offset)))
        }
        // Every node reference the remaining sets show resolves the way the mount resolves it: one tree read.
        for set in kept {
            let nodes = try catalog.entries(of: set).map(\.entry.node) + catalog.vaultEntries(of: set).map(\.entry.node)
            for reference in nodes where reference.hasPrefix("tree:") {
                let parts = reference.dropFirst("tree:".count).split(separator: "/", maxSplits: 1).map(String.init)
                let tree = try await reopened.tree(try #require(BlobID(hex: parts[0])))
                if parts.count == 2 { #expect(tree[parts[1]] != nil, "\(set.name): \(reference)") }
            }
        }
        // A second run finds nothing left to move or remove.
        #expect(try await forgetter.forget(policy: RetentionPolicy(last: 3)).removedSnapshots == 0)
    }
}
