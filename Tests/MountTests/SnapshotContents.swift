import Catalog
import Foundation
@testable import Mount
import Repository
import Sodium
import Support
import Synchronization

/// The file and vault index of the test sets, written as docs/set-layout.md says backup writes them: folders
/// above the roots (node ""), each root folder (`tree:<id>`), every entry (`tree:<tree id>/<name>`), single-file
/// roots (`blobs:<id>,...`), and vault files pointing at their bodies. Blocks on repository reads: call it from
/// a thread of its own.
final class SnapshotContents: SetContents {
    let repository: Repository
    private let snapshots = Mutex<[UUID: Snapshot]>([:])
    private let listedFolders = Mutex<Set<String>>([])

    init(repository: Repository) {
        self.repository = repository
    }

    func register(_ set: SetRecord, snapshot: Snapshot) {
        snapshots.withLock { $0[set.id] = snapshot }
    }

    /// An item's `root` as the catalog records it.
    static func itemRoot(_ root: Snapshot.Root) -> String {
        switch root {
        case let .tree(id): id.hex
        case let .file(node): NodeReference(file: node).text
        }
    }

    func files(of set: SetRecord, item: ItemRecord, _ visit: (FileEntry) throws -> Void) throws {
        guard let root = snapshots.withLock({ $0[set.id] })?.roots[item.item] else {
            throw OperatorError.failed("no snapshot registered for set \(set.name) item \(item.item)")
        }
        let parts = item.item.split(separator: "/")
        for depth in 1..<max(parts.count, 1) {
            let folder = "/" + parts.prefix(depth).joined(separator: "/")
            guard listedFolders.withLock({ $0.insert("\(set.id)\(folder)").inserted }) else { continue }
            try visit(FileEntry(path: folder, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0, mtimeNanoseconds: 0,
                                version: "folder", node: ""))
        }
        switch root {
        case let .file(node):
            try visit(Self.entry("/" + item.item, node, Self.itemRoot(root)))
        case let .tree(id):
            try visit(FileEntry(path: "/" + item.item, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0,
                                mtimeNanoseconds: 0, version: id.hex, node: "tree:\(id.hex)"))
            try walk(id, path: "/" + item.item, visit)
        }
    }

    func vaultFiles(of set: SetRecord, _ visit: (VaultEntry) throws -> Void) throws {
        guard let snapshot = snapshots.withLock({ $0[set.id] }),
              case let .file(indexNode)? = snapshot.roots["valkyrie/vault-index.jsonl"] else { return }
        let repository = self.repository
        let text = try blocking { try await repository.read(indexNode, offset: 0, length: Int(indexNode.size)) }
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let entry = try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data(line))
            var node = ""
            if let backing = entry.backingPath, entry.kind == .file {
                guard let reference = try locate(backing, in: snapshot) else {
                    throw OperatorError.failed("\(backing) is not in set \(set.name)")
                }
                node = reference
            }
            try visit(VaultEntry(vault: entry.vault, path: entry.path, kind: entry.kind, backingPath: entry.backingPath,
                                 size: entry.size, iv: entry.iv, keyVersion: entry.keyVersion, contentHash: entry.contentHash,
                                 format: entry.format, version: entry.contentHash ?? "folder", node: node))
        }
    }

    /// `tree:<parent tree>/<name>` of a path in the set.
    private func locate(_ path: String, in snapshot: Snapshot) throws -> String? {
        for (name, root) in snapshot.roots where path.hasPrefix("/" + name + "/") {
            guard case var .tree(tree) = root else { continue }
            let parts = path.dropFirst(name.count + 2).split(separator: "/").map(String.init)
            let repository = self.repository
            for (index, part) in parts.enumerated() {
                let current = tree
                if index == parts.count - 1 { return "tree:\(current.hex)/\(part)" }
                guard let subtree = try blocking({ try await repository.tree(current)[part] })?.subtree else { return nil }
                tree = subtree
            }
        }
        return nil
    }

    private func walk(_ id: BlobID, path: String, _ visit: (FileEntry) throws -> Void) throws {
        let repository = self.repository
        for node in try blocking({ try await repository.tree(id) }).nodes {
            let nodePath = path + "/" + node.name
            try visit(Self.entry(nodePath, node, "tree:\(id.hex)/\(node.name)"))
            if let subtree = node.subtree { try walk(subtree, path: nodePath, visit) }
        }
    }

    static func entry(_ path: String, _ node: Node, _ reference: String) -> FileEntry {
        let kind: EntryKind = switch node.type {
        case .file: .file
        case .dir: .directory
        case .symlink: .symlink
        default: .other
        }
        let version = Sodium.blake2b256((try? JSONFormat.encoder().encode(node)) ?? Data()).prefix(16).map { String(format: "%02x", $0) }.joined()
        return FileEntry(path: path, kind: kind, size: node.size, mode: node.mode, uid: node.uid, gid: node.gid,
                         mtimeNanoseconds: node.mtime.s * 1_000_000_000 + node.mtime.ns, version: version, node: reference)
    }
}
