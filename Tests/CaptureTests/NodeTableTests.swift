@testable import Capture
import Foundation
import Repository
import Testing

/// The set index's table of nodes under a root: path -> tree reference and content ids, by sorted path key.
@Suite struct NodeTableTests {
    @Test("every node added is found by its path after finish, with its tree and its own content ids; others are not")
    func lookups() {
        let trees = (0..<7).map { BlobID.sha256(Data("tree \($0)".utf8)) }
        let paths = (0..<5000).map { "vault \($0 % 13)/folder \($0 % 97)/file \($0).bin" }
        func content(_ n: Int) -> [BlobID]? {
            n % 4 == 0 ? nil : (0..<(n % 3)).map { BlobID.sha256(Data("blob \(n).\($0)".utf8)) }
        }
        var table = NodeTable()
        for n in paths.indices.shuffled() { table.add(paths[n], tree: trees[n % trees.count], content: content(n)) }
        table.finish()
        for n in paths.indices {
            let name = "file \(n).bin"
            #expect(table.reference(paths[n]) == "tree:\(trees[n % trees.count].hex)/\(name)")
            #expect(table.content(paths[n]) == content(n))
        }
        #expect(table.reference("vault 0/folder 0/missing") == nil && table.content("vault 0/folder 0/missing") == nil)
        #expect(NodeTable().reference("anything") == nil)
    }
}
