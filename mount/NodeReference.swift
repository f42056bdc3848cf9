import Foundation
import Repository

/// What a file-index row's `node` holds: where the repository keeps that entry's node, so the mount reaches a
/// file's content, link target and xattrs by decoding one tree (usually cached) instead of walking from the root.
///
/// `t:<tree blob hex>/<name>` is entry `name` of a tree; `r:<snapshot hex>/<root name>` is a single-file root.
public enum NodeReference: Sendable, Equatable, Hashable {
    case entry(tree: BlobID, name: String)
    case root(snapshot: BlobID, name: String)

    public var encoded: String {
        switch self {
        case let .entry(tree, name): "t:\(tree.hex)/\(name)"
        case let .root(snapshot, name): "r:\(snapshot.hex)/\(name)"
        }
    }

    public init?(_ text: String) {
        guard text.count > 2, let slash = text.firstIndex(of: "/") else { return nil }
        let kind = text.prefix(2), hex = String(text[text.index(text.startIndex, offsetBy: 2)..<slash])
        let name = String(text[text.index(after: slash)...])
        guard let id = BlobID(hex: hex), !name.isEmpty else { return nil }
        switch kind {
        case "t:": self = .entry(tree: id, name: name)
        case "r:": self = .root(snapshot: id, name: name)
        default: return nil
        }
    }
}

extension Repository {
    /// The node a reference points at, or nil when the tree or snapshot no longer holds it.
    public func node(_ reference: NodeReference) async throws -> Node? {
        switch reference {
        case let .entry(tree, name):
            return try await self.tree(tree)[name]
        case let .root(snapshot, name):
            guard case let .file(node)? = try await self.snapshot(snapshot).roots[name] else { return nil }
            return node
        }
    }
}
