import Catalog
import Foundation
import Repository
import Sodium
import Support
import Synchronization

/// The catalog's view of sets stored in the repository: every node of every root as a `FileEntry` (path in the
/// set, `node` a `NodeReference`), and the vault index from the `valkyrie/vault-index.jsonl` root. An item's
/// `root` is the hex id of the set's snapshot; the item's name is the root's name (docs/set-layout.md).
///
/// Its methods block on repository reads: call them from a thread of their own, not from a task.
public final class RepositorySetContents: SetContents {
    public static let vaultIndexRoot = "valkyrie/vault-index.jsonl"
    let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public func files(of set: SetRecord, item: ItemRecord, _ visit: (FileEntry) throws -> Void) throws {
        guard let snapshotID = BlobID(hex: item.root) else {
            throw OperatorError.failed("item \(item.item) of set \(set.name) names no snapshot (\(item.root))",
                                       remedy: "check the repository with `valkyrie verify`")
        }
        let repository = self.repository
        let snapshot = try blocking { try await repository.snapshot(snapshotID) }
        switch snapshot.roots[item.item] {
        case let .file(node)?:
            try visit(Self.entry("/" + item.item, node, .root(snapshot: snapshotID, name: item.item)))
        case let .tree(id)?:
            try walk(id, path: "/" + item.item, visit)
        case nil:
            throw OperatorError.failed("snapshot \(snapshotID.short) of set \(set.name) has no root \(item.item)",
                                       remedy: "check the repository with `valkyrie verify`")
        }
    }

    public func vaultFiles(of set: SetRecord, _ visit: (VaultEntry) throws -> Void) throws {
        // The snapshot is the one every item names; a set without items has no vault index.
        guard let snapshotID = try items(of: set).first.flatMap({ BlobID(hex: $0.root) }) else { return }
        let repository = self.repository
        let snapshot = try blocking { try await repository.snapshot(snapshotID) }
        guard case let .file(indexNode)? = snapshot.roots[Self.vaultIndexRoot] else { return }
        let text = try blocking { try await repository.read(indexNode, offset: 0, length: Int(indexNode.size)) }
        for line in text.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let entry = try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data(line))
            var node = "", version = entry.contentHash ?? ""
            if let backing = entry.backingPath, entry.kind == .file {
                guard let found = try locate(backing, in: snapshot, snapshotID: snapshotID) else {
                    throw OperatorError.failed("vault file \(entry.vault):\(entry.path) of set \(set.name) is backed by \(backing), which the set does not hold",
                                               remedy: "check the set with `valkyrie verify`")
                }
                node = found.reference.encoded
                if version.isEmpty { version = Self.version(of: found.node) }
            }
            try visit(VaultEntry(vault: entry.vault, path: entry.path, kind: entry.kind, backingPath: entry.backingPath,
                                 size: entry.size, iv: entry.iv, keyVersion: entry.keyVersion,
                                 contentHash: entry.contentHash, format: entry.format, version: version, node: node))
        }
    }

    /// Items are passed to `files` by the catalog; for the vault index only the set is, so the caller registers them.
    private let knownItems = Mutex<[UUID: [ItemRecord]]>([:])

    /// Registers a set's items (what `Catalog.details(of:)` returns) before `Catalog.index` runs.
    public func register(_ set: SetRecord, items: [ItemRecord]) {
        knownItems.withLock { $0[set.id] = items }
    }

    private func items(of set: SetRecord) throws -> [ItemRecord] {
        knownItems.withLock { $0[set.id] } ?? []
    }

    /// The node at `path` (a path in the set) and its reference, walking from the root that holds it.
    private func locate(_ path: String, in snapshot: Snapshot, snapshotID: BlobID) throws -> (node: Node, reference: NodeReference)? {
        for (name, root) in snapshot.roots where path.hasPrefix("/" + name + "/") {
            guard case var .tree(tree) = root else { continue }
            let parts = path.dropFirst(name.count + 2).split(separator: "/").map(String.init)
            let repository = self.repository
            for (index, part) in parts.enumerated() {
                let current = tree
                guard let node = try blocking({ try await repository.tree(current)[part] }) else { return nil }
                if index == parts.count - 1 { return (node, .entry(tree: current, name: part)) }
                guard let subtree = node.subtree else { return nil }
                tree = subtree
            }
        }
        return nil
    }

    private func walk(_ id: BlobID, path: String, _ visit: (FileEntry) throws -> Void) throws {
        let repository = self.repository
        for node in try blocking({ try await repository.tree(id) }).nodes {
            let nodePath = path + "/" + node.name
            try visit(Self.entry(nodePath, node, .entry(tree: id, name: node.name)))
            if let subtree = node.subtree { try walk(subtree, path: nodePath, visit) }
        }
    }

    static func entry(_ path: String, _ node: Node, _ reference: NodeReference) -> FileEntry {
        let kind: EntryKind = switch node.type {
        case .file: .file
        case .dir: .directory
        case .symlink: .symlink
        default: .other
        }
        return FileEntry(path: path, kind: kind, size: node.size, mode: node.mode, uid: node.uid, gid: node.gid,
                         mtimeNanoseconds: node.mtime.s * 1_000_000_000 + node.mtime.ns, version: version(of: node),
                         node: reference.encoded)
    }

    /// A digest of everything the node records (metadata and content ids): equal only for identical entries.
    static func version(of node: Node) -> String {
        let encoded = (try? JSONFormat.encoder().encode(node)) ?? Data()
        return Sodium.blake2b256(encoded).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
