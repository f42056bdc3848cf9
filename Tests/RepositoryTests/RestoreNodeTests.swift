import Foundation
import POSIX
@testable import Repository
import Testing

/// Restoring one node below an archived root (`valkyrie restore SET:PATH`): hard links are recorded by their path
/// below the root, so the node's own path there decides whether its links find their first names.
@Suite struct RestoreNodeTests {
    @Test("a folder below the root keeps its hard links; a link whose first name is outside it comes back as a copy")
    func hardLinksBelowTheRoot() async throws {
        let scratch = Scratch()
        let source = scratch.sub("source")
        try FileManager.default.createDirectory(atPath: "\(source)/conf/sub", withIntermediateDirectories: true)
        try Data("shared\n".utf8).write(to: URL(fileURLWithPath: "\(source)/conf/sub/a"))
        try FileManager.default.linkItem(atPath: "\(source)/conf/sub/a", toPath: "\(source)/conf/sub/b")
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let (set, _, _) = try await Fixture.backup(repository, source)
        guard case let .tree(root) = set.snapshot.roots["item"] else { Issue.record("no tree root"); return }
        let conf = try #require(try await repository.tree(root)["conf"]?.subtree)
        let sub = try #require(try await repository.tree(conf)["sub"])
        let subtree = try #require(sub.subtree)
        let b = try #require(try await repository.tree(subtree)["b"])
        #expect(b.hardLink == "conf/sub/a")

        let folder = "\(scratch.path)/folder"
        _ = try await Restorer(repository: repository).restore(sub, to: folder, relative: "conf/sub")
        let (a1, b1) = (try POSIX.lstat("\(folder)/a"), try POSIX.lstat("\(folder)/b"))
        #expect(a1.inode == b1.inode && a1.links == 2)

        let alone = "\(scratch.path)/alone"
        _ = try await Restorer(repository: repository).restore(b, to: alone, relative: "conf/sub/b")
        #expect(try String(contentsOfFile: alone, encoding: .utf8) == "shared\n" && (try POSIX.lstat(alone)).links == 1)
    }
}
