import Catalog
import Crypto
import Foundation
import Repository
import Support

/// A set's file and vault index entries, read from its trees once the set is stored, handed to the catalog
/// through `SetContents`.
///
/// Node references: `tree:<tree id>/<name>` for an entry of a stored tree (valid in every set holding that
/// tree), `blobs:<id>,...` for a single-file root.
public struct SetIndex: SetContents {
    public private(set) var entries: [String: [FileEntry]] = [:]
    public private(set) var vaultEntries: [VaultEntry] = []
    /// Logical size of each item: the sum of its files' sizes.
    public private(set) var sizes: [String: Int64] = [:]
    /// `tree:<id>/<name>` of every node under `var/lib/vaulthalla`, by its path relative to that root.
    private var bodyNodes: [String: String] = [:]
    /// Content blob ids of every file under `var/lib/vaulthalla`, by its path relative to that root.
    public private(set) var bodyContent: [String: [BlobID]] = [:]
    private var s3Nodes: [String: String] = [:]

    public init() {}

    public func files(of set: SetRecord, item: ItemRecord, _ visit: (FileEntry) throws -> Void) throws {
        for entry in entries[item.item] ?? [] { try visit(entry) }
    }

    public func vaultFiles(of set: SetRecord, _ visit: (VaultEntry) throws -> Void) throws {
        for entry in vaultEntries { try visit(entry) }
    }

    /// Adds an item's entries; folders above its root (`/var`, `/var/lib`) are listed once, by the first item.
    /// `tree` reads a tree by id (the writer's, while the set is being taken).
    mutating func add(_ item: CapturedItem, tree: (BlobID) async throws -> Tree) async throws {
        var entries: [FileEntry] = []
        let parts = item.root.split(separator: "/").map(String.init)
        let known = Set(self.entries.values.flatMap { $0.map(\.path) })
        for depth in 1..<max(parts.count, 1) {
            let path = "/" + parts.prefix(depth).joined(separator: "/")
            if !known.contains(path) {
                entries.append(FileEntry(path: path, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0,
                                                 mtimeNanoseconds: 0, version: "folder", node: ""))
            }
        }
        var total: Int64 = 0
        switch item.value {
        case let .file(node):
            entries.append(try Self.entry(node, path: "/" + item.root, reference: item.reference))
            total = node.size
        case let .tree(id):
            entries.append(FileEntry(path: "/" + item.root, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0,
                                             mtimeNanoseconds: 0, version: id.hex, node: "tree:\(id.hex)"))
            var references: [String: String] = [:]
            var contents: [String: [BlobID]] = [:]
            try await Self.walk(id, relative: "", tree: tree) { relative, node, reference in
                entries.append(try Self.entry(node, path: "/\(item.root)/\(relative)", reference: reference))
                if node.type == .file { total += node.size }
                references[relative] = reference
                if let content = node.content { contents[relative] = content }
            }
            if item.root == SetLayout.varLib { (bodyNodes, bodyContent) = (references, contents) }
            if item.root == SetLayout.s3 { s3Nodes = references }
        }
        self.entries[item.root] = entries
        sizes[item.root] = total
    }

    /// The vault index, each file pointing at its body (local vaults) or its object (S3 vaults).
    mutating func addVaultIndex(_ lines: [VaultIndexLine]) throws {
        var folders = Set<String>()
        for line in lines {
            let reference = line.vaultType == "s3"
                ? s3Nodes["\(ExportSource.fileName(line.vault))/\(line.path.dropFirst())"] ?? bodyNodes[line.backingPath]
                : bodyNodes[line.backingPath]
            vaultEntries.append(VaultEntry(vault: line.vault, path: line.path, kind: .file, backingPath: line.backingPath,
                                           size: line.size, iv: line.iv, keyVersion: line.keyVersion,
                                           contentHash: line.contentHash, format: line.format,
                                           version: Self.digest(try JSONFormat.encoder().encode(line)), node: reference ?? ""))
            var parent = (line.path as NSString).deletingLastPathComponent
            while parent != "/" && !parent.isEmpty && folders.insert("\(line.vault)\u{0}\(parent)").inserted {
                vaultEntries.append(VaultEntry(vault: line.vault, path: parent, kind: .directory, backingPath: nil, size: 0,
                                               iv: nil, keyVersion: nil, contentHash: nil, format: nil, version: "folder", node: ""))
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
    }

    private static func walk(_ id: BlobID, relative: String, tree: (BlobID) async throws -> Tree,
                             _ visit: (String, Node, String) throws -> Void) async throws {
        for node in try await tree(id).nodes {
            let path = relative.isEmpty ? node.name : "\(relative)/\(node.name)"
            try visit(path, node, "tree:\(id.hex)/\(node.name)")
            if let subtree = node.subtree { try await walk(subtree, relative: path, tree: tree, visit) }
        }
    }

    static func entry(_ node: Node, path: String, reference: String) throws -> FileEntry {
        let kind: EntryKind = switch node.type {
        case .file: .file
        case .dir: .directory
        case .symlink: .symlink
        default: .other
        }
        return FileEntry(path: path, kind: kind, size: node.size, mode: node.mode, uid: node.uid, gid: node.gid,
                                 mtimeNanoseconds: node.mtime.s * 1_000_000_000 + node.mtime.ns,
                                 version: digest(try JSONFormat.encoder().encode(node)), node: reference)
    }

    static func digest(_ data: Data) -> String {
        Data(SHA256.hash(data: data).prefix(16)).hexString
    }
}
