import Catalog
import Foundation
import POSIX
import Repository

/// What a file-index row's `node` holds (docs/set-layout.md): `tree:<tree id>/<name>` for the entry `name` of a
/// stored tree, `blobs:<id>,...` for a single-file root, `tree:<id>` for a root folder and "" for a folder above
/// the roots. The mount reaches a file's content, link target and xattrs by decoding one tree (usually cached),
/// never by walking from a root.
enum NodeReference: Sendable, Equatable {
    case entry(tree: BlobID, name: String)
    case blobs([BlobID])

    /// nil for folders (no node to read) and for text that is not a reference.
    init?(_ text: String) {
        if text.hasPrefix("tree:"), let slash = text.firstIndex(of: "/") {
            let hex = String(text[text.index(text.startIndex, offsetBy: 5)..<slash]), name = String(text[text.index(after: slash)...])
            guard let id = BlobID(hex: hex), !name.isEmpty else { return nil }
            self = .entry(tree: id, name: name)
        } else if text.hasPrefix("blobs:") {
            let ids = text.dropFirst(6).split(separator: ",").map { BlobID(hex: String($0)) }
            guard !ids.contains(where: { $0 == nil }) else { return nil }
            self = .blobs(ids.compactMap { $0 })
        } else {
            return nil
        }
    }
}

extension Repository {
    /// The node behind an index row, or nil when the repository no longer holds it. A single-file root has
    /// no stored node: it is rebuilt from the row's metadata and the blob ids.
    func node(_ reference: NodeReference, of entry: FileEntry) async throws -> Node? {
        switch reference {
        case let .entry(tree, name):
            return try await self.tree(tree)[name]
        case let .blobs(ids):
            let nanoseconds = entry.mtimeNanoseconds
            return Node(name: String(entry.path.split(separator: "/").last ?? ""), type: .file, mode: entry.mode,
                        uid: entry.uid, gid: entry.gid,
                        mtime: FileTime(s: nanoseconds / 1_000_000_000, ns: nanoseconds % 1_000_000_000),
                        size: entry.size, content: ids)
        }
    }
}
