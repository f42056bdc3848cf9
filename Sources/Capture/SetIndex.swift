import Catalog
import Crypto
import Foundation
import Repository
import Support

/// A set's file and vault index entries, read from its trees once the set is stored, handed to the catalog
/// through `SetContents`. Entries wait in an `EntrySpool` (a temporary file), not in memory: a set of a
/// million files would otherwise hold a million entries until the catalog takes them.
///
/// Node references: `tree:<tree id>/<name>` for an entry of a stored tree (valid in every set holding that
/// tree), a single-file root's blobs (`NodeReference`: `blobs:<id>,...`, with `;base:<id>,...` for a patch).
public struct SetIndex: SetContents {
    private let spool: EntrySpool
    /// Where each item's entries, and the vault entries, are in the spool.
    private var items: [String: Range<UInt64>] = [:]
    private var vault: Range<UInt64>?
    /// Vault folders listed so far (keys of `vault NUL path`).
    private var vaultFolders = Set<PathKey>()
    /// Logical size of each item: the sum of its files' sizes.
    public private(set) var sizes: [String: Int64] = [:]
    /// Paths listed so far that could be a folder above a root (fewer parts than the deepest root).
    private var shallowPaths = Set<String>()
    /// Every node under `var/lib/vaulthalla` and `s3`, by its path relative to that root.
    private var bodies = NodeTable()
    private var s3Nodes = NodeTable()
    /// Whether `bodyContent` is wanted (a backup with a previous set to compare with).
    private let keepsBodyContent: Bool

    public init(keepingBodyContent: Bool = false) throws {
        spool = try EntrySpool()
        keepsBodyContent = keepingBodyContent
    }

    public func files(of set: SetRecord, item: ItemRecord, _ visit: (FileEntry) throws -> Void) throws {
        guard let range = items[item.item] else { return }
        try spool.read(range) { try visit(try Self.fileEntry($0)) }
    }

    public func vaultFiles(of set: SetRecord, _ visit: (VaultEntry) throws -> Void) throws {
        guard let vault else { return }
        try spool.read(vault) { try visit(try Self.vaultEntry($0)) }
    }

    /// Content blob ids of the file at `path` under `var/lib/vaulthalla` (nil unless `keepingBodyContent`).
    public func bodyContent(_ path: String) -> [BlobID]? {
        bodies.content(path)
    }

    /// Adds an item's entries; folders above its root (`/var`, `/var/lib`) are listed once, by the first item.
    /// `tree` reads a tree by id (the writer's, while the set is being taken).
    mutating func add(_ item: CapturedItem, tree: (BlobID) async throws -> Tree) async throws {
        let start = spool.position
        let parts = item.root.split(separator: "/").map(String.init)
        for depth in 1..<max(parts.count, 1) {
            let path = "/" + parts.prefix(depth).joined(separator: "/")
            if !shallowPaths.contains(path) {
                try write(FileEntry(path: path, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0,
                                    mtimeNanoseconds: 0, version: "folder", node: ""))
            }
        }
        var total: Int64 = 0
        switch item.value {
        case let .file(node):
            try write(try Self.entry(node, path: "/" + item.root, reference: item.reference))
            total = node.size
        case let .tree(id):
            try write(FileEntry(path: "/" + item.root, kind: .directory, size: 0, mode: 0o755, uid: 0, gid: 0,
                                mtimeNanoseconds: 0, version: id.hex, node: "tree:\(id.hex)"))
            var nodes = NodeTable()
            let keep = item.root == SetLayout.varLib || item.root == SetLayout.s3
            try await Self.walk(id, relative: "", tree: tree) { relative, node, tree in
                try write(try Self.entry(node, path: "/\(item.root)/\(relative)", reference: "tree:\(tree.hex)/\(node.name)"))
                if node.type == .file { total += node.size }
                if keep { nodes.add(relative, tree: tree, content: item.root == SetLayout.varLib && keepsBodyContent ? node.content : nil) }
            }
            nodes.finish()
            if item.root == SetLayout.varLib { bodies = nodes }
            if item.root == SetLayout.s3 { s3Nodes = nodes }
        }
        items[item.root] = start..<spool.position
        sizes[item.root] = total
    }

    /// Lines of the vault index (all, or one vault's after another's), each file pointing at its body (local
    /// vaults) or its object (S3 vaults). `encoded`: the lines as `JSONFormat.encoder()` encodes them, when the
    /// caller has them already (each entry's version is the digest of that encoding).
    mutating func addVaultIndex(_ lines: [VaultIndexLine], encoded: [Data]? = nil) throws {
        precondition(encoded == nil || encoded?.count == lines.count)
        let start = vault?.lowerBound ?? spool.position
        precondition(vault == nil || vault?.upperBound == spool.position, "vault entries are added one after another")
        for (position, line) in lines.enumerated() {
            let reference = line.vaultType == "s3"
                ? s3Nodes.reference("\(ExportSource.fileName(line.vault))/\(line.path.dropFirst())") ?? bodies.reference(line.backingPath)
                : bodies.reference(line.backingPath)
            try Self.write(VaultEntry(vault: line.vault, path: line.path, kind: .file, backingPath: line.backingPath,
                                      size: line.size, iv: line.iv, keyVersion: line.keyVersion,
                                      contentHash: line.contentHash, format: line.format,
                                      version: Self.digest(encoded?[position] ?? VaultIndexJSON.encode(line)), node: reference ?? ""), to: spool)
            var parent = (line.path as NSString).deletingLastPathComponent
            while parent != "/" && !parent.isEmpty && vaultFolders.insert(PathKey("\(line.vault)\u{0}\(parent)")).inserted {
                try Self.write(VaultEntry(vault: line.vault, path: parent, kind: .directory, backingPath: nil, size: 0, iv: nil,
                                          keyVersion: nil, contentHash: nil, format: nil, version: "folder", node: ""), to: spool)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
        vault = start..<spool.position
    }

    private mutating func write(_ entry: FileEntry) throws {
        if entry.path.utf8.count(where: { $0 == UInt8(ascii: "/") }) < Self.deepestRoot { shallowPaths.insert(entry.path) }
        var record = RecordWriter()
        record.string(entry.path)
        record.string(entry.kind.rawValue)
        record.int(entry.size)
        record.int(Int64(entry.mode))
        record.int(Int64(entry.uid))
        record.int(Int64(entry.gid))
        record.int(entry.mtimeNanoseconds)
        record.string(entry.version)
        record.string(entry.node)
        try spool.append(record.data)
    }

    private static func fileEntry(_ data: Data) throws -> FileEntry {
        var record = RecordReader(data)
        return FileEntry(path: try record.string(), kind: try kind(record.string()), size: try record.int(),
                         mode: UInt32(truncatingIfNeeded: try record.int()), uid: UInt32(truncatingIfNeeded: try record.int()),
                         gid: UInt32(truncatingIfNeeded: try record.int()), mtimeNanoseconds: try record.int(),
                         version: try record.string(), node: try record.string())
    }

    private static func write(_ entry: VaultEntry, to spool: EntrySpool) throws {
        var record = RecordWriter()
        record.string(entry.vault)
        record.string(entry.path)
        record.string(entry.kind.rawValue)
        record.optionalString(entry.backingPath)
        record.int(entry.size)
        record.optionalString(entry.iv)
        record.optionalInt(entry.keyVersion.map(Int64.init))
        record.optionalString(entry.contentHash)
        record.optionalInt(entry.format.map(Int64.init))
        record.string(entry.version)
        record.string(entry.node)
        try spool.append(record.data)
    }

    private static func vaultEntry(_ data: Data) throws -> VaultEntry {
        var record = RecordReader(data)
        return VaultEntry(vault: try record.string(), path: try record.string(), kind: try kind(record.string()),
                          backingPath: try record.optionalString(), size: try record.int(), iv: try record.optionalString(),
                          keyVersion: try record.optionalInt().map(Int.init), contentHash: try record.optionalString(),
                          format: try record.optionalInt().map(Int.init), version: try record.string(), node: try record.string())
    }

    private static func kind(_ text: String) throws -> EntryKind {
        guard let kind = EntryKind(rawValue: text) else { throw EntrySpool.damaged }
        return kind
    }

    /// Slashes in the deepest root's path (`/var/lib/swtpm/vaulthalla`): a folder above a root has fewer.
    private static let deepestRoot = [SetLayout.postgres, SetLayout.etc, SetLayout.varLib, SetLayout.swtpm, SetLayout.exports,
                                      SetLayout.keys, SetLayout.s3, SetLayout.s3Objects, SetLayout.vaultIndex, SetLayout.version]
        .map { $0.split(separator: "/").count }.max()!

    private static func walk(_ id: BlobID, relative: String, tree: (BlobID) async throws -> Tree,
                             _ visit: (String, Node, BlobID) throws -> Void) async throws {
        for node in try await tree(id).nodes {
            let path = relative.isEmpty ? node.name : "\(relative)/\(node.name)"
            try visit(path, node, id)
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

/// The nodes of one root by relative path: the tree that holds each and, when wanted, a file's content ids.
///
/// A million nodes under `var/lib/vaulthalla` made a dictionary of alias paths (~140 characters each) and
/// reference strings of about 300 bytes a node. Here a path is its `PathKey`, the tree a number into a table of
/// tree ids, content ids sit in one flat array, and the entries in one array sorted by key once the walk is done
/// (a dictionary of them took 64 bytes a node at its load, twice that while growing): 32 bytes a node, plus 32
/// per content id when kept.
struct NodeTable: Sendable {
    private struct Entry: Sendable {
        var key: PathKey
        var tree: UInt32
        /// Into `contents`; `contentCount` is -1 for a node without a content list.
        var contentStart: UInt32
        var contentCount: Int32
    }

    private var trees = Numbering<BlobID>()
    private var entries: [Entry] = []
    private var contents: [BlobID] = []
    /// Lookups need the entries sorted: `finish()` sorts them once every node is added.
    private var sorted = true

    /// Adds a node; a path is added once (a tree walk meets each path once).
    mutating func add(_ path: String, tree: BlobID, content: [BlobID]?) {
        entries.append(Entry(key: PathKey(path), tree: trees.number(tree), contentStart: UInt32(contents.count),
                             contentCount: Int32(content?.count ?? -1)))
        contents += content ?? []
        sorted = false
    }

    /// Sorts the entries for lookup; call once all nodes are added.
    mutating func finish() {
        entries.sort { $0.key < $1.key }
        sorted = true
    }

    /// `tree:<id>/<name>` of the node at `path`.
    func reference(_ path: String) -> String? {
        guard let entry = entry(path) else { return nil }
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        return "tree:\(trees[entry.tree].hex)/\(name)"
    }

    /// The content ids recorded for the node at `path`.
    func content(_ path: String) -> [BlobID]? {
        guard let entry = entry(path), entry.contentCount >= 0 else { return nil }
        let start = Int(entry.contentStart)
        return Array(contents[start..<(start + Int(entry.contentCount))])
    }

    private func entry(_ path: String) -> Entry? {
        precondition(sorted, "a node table is looked up only after finish()")
        let key = PathKey(path)
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low < entries.count && entries[low].key == key ? entries[low] : nil
    }
}
