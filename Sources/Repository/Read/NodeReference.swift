import Foundation
import POSIX

/// What a catalog index row's `node` holds (docs/set-layout.md): `tree:<tree id>/<name>` for the entry `name` of a
/// stored tree; for a single-file root, which has no stored node, `blobs:<id>,...` (its content) or, for a file
/// stored as a patch (docs/repository-format.md, "Patches"), `blobs:<patch ids>;base:<base ids>`. `tree:<id>` (a root
/// folder) and "" (a folder above the roots) name no file. Every reader of a file goes through here, so a patch is
/// always read with its base, never taken for the file.
public enum NodeReference: Sendable, Equatable {
    case entry(tree: BlobID, name: String)
    case blobs(content: [BlobID], patchBase: [BlobID]?)

    /// The reference of a single-file root's node.
    public init(file node: Node) {
        self = .blobs(content: node.content ?? [], patchBase: node.patchBase)
    }

    /// nil for folders (no node to read) and for text that is not a reference.
    public init?(_ text: String) {
        if text.hasPrefix("tree:"), let slash = text.firstIndex(of: "/") {
            let hex = String(text[text.index(text.startIndex, offsetBy: 5)..<slash]), name = String(text[text.index(after: slash)...])
            guard let id = BlobID(hex: hex), !name.isEmpty else { return nil }
            self = .entry(tree: id, name: name)
        } else if text.hasPrefix("blobs:") {
            let parts = text.dropFirst("blobs:".count).split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count <= 2, let content = Self.ids(parts[0]) else { return nil }
            guard parts.count == 2 else {
                self = .blobs(content: content, patchBase: nil)
                return
            }
            guard parts[1].hasPrefix("base:"), let base = Self.ids(parts[1].dropFirst("base:".count)), !base.isEmpty else { return nil }
            self = .blobs(content: content, patchBase: base)
        } else {
            return nil
        }
    }

    public var text: String {
        switch self {
        case let .entry(tree, name): "tree:\(tree.hex)/\(name)"
        case let .blobs(content, patchBase):
            "blobs:" + content.map(\.hex).joined(separator: ",") + (patchBase.map { ";base:" + $0.map(\.hex).joined(separator: ",") } ?? "")
        }
    }

    private static func ids(_ list: Substring) -> [BlobID]? {
        let ids = list.split(separator: ",").map { BlobID(hex: String($0)) }
        return ids.contains(where: { $0 == nil }) ? nil : ids.compactMap { $0 }
    }
}

extension Repository {
    /// The node behind an index row, or nil when its tree no longer names it. A single-file root's node is rebuilt
    /// from the row's metadata and the blob ids.
    public func node(_ reference: NodeReference, name: String, mode: UInt32, uid: UInt32, gid: UInt32,
                     mtimeNanoseconds: Int64, size: Int64) async throws -> Node? {
        switch reference {
        case let .entry(tree, name):
            return try await self.tree(tree)[name]
        case let .blobs(content, patchBase):
            return Node(name: name, type: .file, mode: mode, uid: uid, gid: gid,
                        mtime: FileTime(s: mtimeNanoseconds / 1_000_000_000, ns: mtimeNanoseconds % 1_000_000_000),
                        size: size, content: content, patchBase: patchBase)
        }
    }
}
