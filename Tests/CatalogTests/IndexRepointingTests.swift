import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

/// Forgetting a set moves the rows it started that later sets still show onto the next set that stays, with
/// that set's node references, so a row's node always belongs to its first set's snapshot.
@Suite struct IndexRepointingTests {
    /// An entry whose node names the set it was read from, as a repository's tree references do.
    static func file(_ path: String, _ version: String, in set: Int) -> FileEntry {
        var entry = MemoryContents.file(path, version)
        entry.node = "tree:set\(set)/\(version)"
        return entry
    }

    /// Sets 1-4 of vh1: keep.txt and a vault file never change, changing.txt changes at set 2, once.txt is in
    /// set 1 only. Returns the sets and each set's contents as its own snapshot describes it.
    static func fourSets(_ catalog: Catalog) throws -> ([SetRecord], MemoryContents) {
        var contents = MemoryContents(), sets: [SetRecord] = []
        for n in 1...4 {
            let set = try Fixture.completedSet(catalog, minutes: Double(n))
            var entries = [file("/etc/keep.txt", "keep", in: n), file("/etc/changing.txt", n == 1 ? "old" : "new", in: n)]
            if n == 1 { entries.append(file("/etc/once.txt", "once", in: n)) }
            contents.files[set.name] = ["etc": entries]
            var body = MemoryContents.vaultFile("finance", "/q3.xlsx", "q3")
            body.node = "tree:set\(n)/body"
            contents.vault[set.name] = [body]
            try catalog.index(set, from: contents)
            sets.append(set)
        }
        return (sets, contents)
    }

    @Test("rows of forgotten sets 1 and 2 that set 3 still shows move to set 3 with its nodes, as a rebuild derives them; rows only in forgotten sets stay")
    func forgottenRowsMoveToTheNextSetThatStays() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let (sets, contents) = try Self.fourSets(catalog)
            try catalog.append([try EventDraft(SetForgotten(set: sets[0].id, reason: "test")),
                                try EventDraft(SetForgotten(set: sets[1].id, reason: "test"))])
            // Oldest first: set 1's rows skip set 2 (forgotten in the same run) and land on set 3.
            for forgotten in sets.prefix(2) {
                let next = try #require(try catalog.successorForRows(of: forgotten))
                #expect(next.id == sets[2].id)
                try catalog.repoint(forgotten, to: next, from: contents)
                #expect(try catalog.successorForRows(of: forgotten) == nil, "nothing shown points into \(forgotten.name) any more")
            }
            let keep = try catalog.history(of: "/etc/keep.txt")
            #expect(keep.map { [$0.firstOrdinal, $0.lastOrdinal] } == [[3, 4]])
            #expect(keep.first?.entry.node == "tree:set3/keep")
            #expect(try catalog.vaultHistory(vault: "finance", path: "/q3.xlsx").map { "\($0.firstOrdinal) \($0.entry.node)" } == ["3 tree:set3/body"])
            #expect(try catalog.history(of: "/etc/changing.txt").map { "\($0.firstOrdinal) \($0.entry.node)" } == ["1 tree:set1/old", "3 tree:set3/new"])
            #expect(try catalog.history(of: "/etc/once.txt").map(\.firstOrdinal) == [1], "a row only forgotten sets show stays")

            // What a listed set shows is what a rebuild from the remaining sets derives.
            let shown = "SELECT * FROM %@ WHERE last_ordinal >= 3"
            let before = try ["file_index", "vault_index"].map { table in
                try catalog.read { db in try Row.fetchAll(db, sql: shown.replacingOccurrences(of: "%@", with: table)).map(\.description).sorted() }
            }
            try catalog.rebuild(contents: contents)
            let after = try ["file_index", "vault_index"].map { table in
                try catalog.read { db in try Row.fetchAll(db, sql: shown.replacingOccurrences(of: "%@", with: table)).map(\.description).sorted() }
            }
            #expect(before == after)
        }
    }

    @Test("a row the next set's contents do not hold refuses the move and changes nothing")
    func missingEntryRefuses() throws {
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            var (sets, contents) = try Self.fourSets(catalog)
            try catalog.append(SetForgotten(set: sets[0].id, reason: "test"))
            contents.files[sets[1].name]?["etc"]?.removeAll { $0.path == "/etc/keep.txt" }
            let before = try Fixture.rows(catalog, "file_index") + Fixture.rows(catalog, "vault_index")
            let next = try #require(try catalog.successorForRows(of: sets[0]))
            #expect(next.id == sets[1].id)
            let error = try #require(throws: OperatorError.self) { try catalog.repoint(sets[0], to: next, from: contents) }
            #expect(error.description.contains("1 index rows of forgotten set \(sets[0].name)"), "\(error)")
            #expect(try Fixture.rows(catalog, "file_index") + Fixture.rows(catalog, "vault_index") == before)
        }
    }
}
