import Capture
import Catalog
import Foundation
import POSIX
import Repository
import Restore
import Retention
import Support
import Testing

/// Sets whose vault index is stored as a patch on the previous set's (docs/repository-format.md, "Patches"): the
/// catalog's reference carries the base, so restore by path, the catalog's index derived from the repository,
/// forget, prune and verify all see the file itself, through a chain of days and after the base's set is gone.
@Suite struct PatchedVaultIndexTests {
    static let keep = ForgetTests.random(50_000, seed: 7)

    /// Day `day`'s vault index: 2,000 files of vault `docs`, each pointing at the body `data/keep`; on day n the
    /// files 0, 50, 100... have size n (so each day's index differs a little everywhere) and `/new-<n>` is added.
    static func index(day: Int) -> Data {
        var lines = (0..<2_000).map { i in
            #"{"vault":"docs","vaultID":1,"vaultType":"local","path":"/f\#(i).pdf","backingPath":"data/keep","size":\#(i % 50 == 0 ? day : 50_000)}"#
        }
        if day > 0 { lines.append(#"{"vault":"docs","vaultID":1,"vaultType":"local","path":"/new-\#(day)","backingPath":"data/keep","size":50000}"#) }
        return Data(lines.map { $0 + "\n" }.joined().utf8)
    }

    /// A complete set of `var/lib/vaulthalla` (`data/keep`) and day `day`'s vault index, stored the way the backup
    /// stores it (a patch on `previous` where that pays), its items recorded and indexed from the repository.
    static func backup(_ catalog: Catalog, _ repository: Repository, day: Int, previous: Node?, in folder: String) async throws -> (SetRecord, Node) {
        let started = Date().addingTimeInterval(Double(day - 10) * 3600)
        let set = try catalog.startSet(host: "vh1", startedAt: started, valkyrieVersion: "test", items: [SetLayout.varLib, SetLayout.vaultIndex])
        let writer = try await repository.beginSet()
        let fixed = Date(timeIntervalSince1970: 1_700_000_000)
        let keepNode = try await writer.storeFile(keep, name: "keep", mtime: fixed)
        let data = try await writer.storeTree(Tree(nodes: [keepNode]))
        let root = try await writer.storeTree(Tree(nodes: [Node(name: "data", type: .dir, mode: 0o755, mtime: FileTime(s: 1_700_000_000, ns: 0), subtree: data)]))
        let path = "\(folder)/index-\(day).jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: index(day: day))
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        let indexNode = try await writer.storeStream(handle, patchingOn: previous, name: "vault-index.jsonl", mtime: fixed)
        let stored = try await writer.commit(metadata: .object(["set": .string(set.id.uuidString)]),
                                             roots: [SetLayout.varLib: .tree(root), SetLayout.vaultIndex: .file(indexNode)], time: started)
        try catalog.append(ItemCaptured(set: set.id, item: SetLayout.varLib, root: root.hex, digest: root.hex, size: 50_000, files: 1))
        let reference = NodeReference(file: indexNode).text  // as the backup records a single-file item
        try catalog.append(ItemCaptured(set: set.id, item: SetLayout.vaultIndex, root: reference, digest: reference, size: indexNode.size, files: 1))
        try catalog.append(BackupCompleted(set: set.id))
        let record = try catalog.requireSet(set.id.uuidString)
        try catalog.index(record, from: try await CatalogFromRepository.contents(of: record, snapshot: stored.snapshot,
                                                                                 catalog: catalog, repository: repository))
        return (record, indexNode)
    }

    /// What every reader sees of `set`'s vault index: the restored file, and the vault rows indexed from it.
    static func check(_ set: SetRecord, day: Int, catalog: Catalog, repository: Repository) async throws {
        let source = SetSource(catalog: catalog, repository: repository, record: set)
        #expect(try await source.contents(of: "/" + SetLayout.vaultIndex) == index(day: day), "day \(day): restore by path")
        let rows = try catalog.vaultEntries(of: set).filter { $0.entry.kind == .file }
        #expect(rows.count == 2_000 + (day > 0 ? 1 : 0), "day \(day): vault rows")
        #expect(try catalog.vaultFile(vault: "docs", "/f50.pdf", in: set)?.entry.size == Int64(day), "day \(day): the day's size")
        let body = try await source.body(try source.vaultEntry(vault: "docs", "/f7.pdf").entry)
        #expect(try await repository.read(body, offset: 0, length: Int(body.size)) == keep)
    }

    @Test("a chain of patched vault indexes reads back through restore and the catalog's index, also after forget and prune take the base's set")
    func chain() async throws {
        let place = ForgetTests.Place()
        let catalog = try place.catalog()
        let repository = try await place.repository()
        var sets: [SetRecord] = []
        var previous: Node?
        for day in 0..<4 {
            let (set, node) = try await Self.backup(catalog, repository, day: day, previous: previous, in: place.path)
            if let previous { #expect(node.patchBase == (previous.patchBase ?? previous.content), "day \(day) patches day 0's index") }
            #expect(try catalog.details(of: set).items.first { $0.item == SetLayout.vaultIndex }?.root.contains(";base:") == (day > 0))
            sets.append(set)
            previous = node
        }
        for (day, set) in sets.enumerated() { try await Self.check(set, day: day, catalog: catalog, repository: repository) }

        // Day 0 (the base's own set) forgotten: its rows move to day 1, re-derived from day 1's patched index.
        let report = try await Forgetter(catalog: catalog, repository: repository).forget(policy: RetentionPolicy(last: 3))
        #expect(report.forgotten == 1)
        _ = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune(recordingIn: catalog)
        let reopened = try await place.repository()
        for (day, set) in sets.enumerated().dropFirst() { try await Self.check(set, day: day, catalog: catalog, repository: reopened) }
        let verified = try await Verifier(repository: reopened).verify(readPercent: 100)
        #expect(verified.isClean, "\(verified.problems)")
    }
}
