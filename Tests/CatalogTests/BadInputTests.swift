import Foundation
import GRDB
import Support
import Testing
@testable import Catalog

/// Every wrong file is refused with a one-line error naming the path and a remedy (exit 2), and left as it was.
@Suite struct BadInputTests {
    /// Opens `path` and reads everything a command might read; returns the operator error.
    private func refusal(_ path: String, mode: Catalog.OpenMode = .existing) -> OperatorError? {
        do {
            let catalog = try Catalog.open(at: path, mode: mode)
            _ = try catalog.events()
            _ = try catalog.sets(all: true)
            _ = try catalog.verifyChain()
            return nil
        } catch let error as OperatorError {
            return error
        } catch {
            Issue.record("not an operator error: \(error)")
            return nil
        }
    }

    private func expectRefused(_ path: String, mode: Catalog.OpenMode = .existing, saying words: String) throws {
        let before = Fixture.bytes(path)
        let error = try #require(refusal(path, mode: mode))
        #expect(error.status == .usage)
        #expect(error.problem.contains(path))
        #expect(error.problem.contains(words), "\(error.problem)")
        #expect(!error.description.contains("\n"))
        #expect(error.remedy?.isEmpty == false)
        #expect(Fixture.bytes(path) == before)
    }

    /// A closed catalog file of some size, its WAL checkpointed into it.
    private func filledCatalog(_ dir: String) throws -> String {
        let path = dir + "/catalog.db"
        do {
            let catalog = try Catalog.open(at: path, mode: .create, origin: Fixture.origin)
            try catalog.append((1...400).map {
                try EventDraft(VerifyCompleted(checkedPacks: $0, problems: [String(repeating: "x", count: 200)]))
            })
        }
        return path
    }

    @Test func notSQLite() throws {
        try Fixture.withDirectory { dir in
            let path = dir + "/notes.txt"
            try Data("these are not the droids\n".utf8).write(to: URL(fileURLWithPath: path))
            try expectRefused(path, mode: .create, saying: "not a SQLite database")
        }
    }

    @Test func emptyFile() throws {
        try Fixture.withDirectory { dir in
            let path = dir + "/empty.db"
            FileManager.default.createFile(atPath: path, contents: Data())
            try expectRefused(path, mode: .create, saying: "is empty")
        }
    }

    @Test func anotherApplicationsDatabase() throws {
        try Fixture.withDirectory { dir in
            let path = dir + "/other.db"
            try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
            for mode in [Catalog.OpenMode.create, .reading] { try expectRefused(path, mode: mode, saying: "not a Valkyrie catalog") }
        }
    }

    @Test func truncated() throws {
        try Fixture.withDirectory { dir in
            let path = try filledCatalog(dir)
            let whole = Fixture.bytes(path)
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
            for mode in [Catalog.OpenMode.existing, .reading] { try expectRefused(path, mode: mode, saying: "truncated") }
        }
    }

    @Test func corrupted() throws {
        try Fixture.withDirectory { dir in
            let path = try filledCatalog(dir)
            var bytes = Fixture.bytes(path)
            let pageSize = Int(bytes[16]) << 8 | Int(bytes[17])
            for index in pageSize..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 131 &+ 7) }
            try bytes.write(to: URL(fileURLWithPath: path))
            for mode in [Catalog.OpenMode.existing, .reading] { try expectRefused(path, mode: mode, saying: "damaged") }
        }
    }

    @Test func readOnlyFile() throws {
        try Fixture.withDirectory { dir in
            let path = try filledCatalog(dir)
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
            for mode in [Catalog.OpenMode.existing, .reading] { try expectRefused(path, mode: mode, saying: "read-only") }
        }
    }

    @Test func missingDirectory() throws {
        try Fixture.withDirectory { dir in
            let path = dir + "/no/such/dir/catalog.db"
            try expectRefused(path, mode: .create, saying: "does not exist")
            #expect(!FileManager.default.fileExists(atPath: dir + "/no"))
        }
    }

    @Test func missingFileIsNotCreatedByReaders() throws {
        try Fixture.withDirectory { dir in
            let path = dir + "/typo.db"
            try expectRefused(path, saying: "no catalog")
            try expectRefused(path, mode: .reading, saying: "no catalog")
            #expect(!FileManager.default.fileExists(atPath: path))
            _ = try Catalog.open(at: path, mode: .create)
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func aDirectoryInsteadOfAFile() throws {
        try Fixture.withDirectory { dir in
            let error = try #require(refusal(dir))
            #expect(error.status == .usage && error.problem.contains("is a directory"))
        }
    }
}
