import Capture
import Catalog
import Foundation
import Repository
import Support

/// One set's snapshot in the repository: its roots (docs/set-layout.md) and version record.
struct SetSource: Sendable {
    let repository: Repository
    let set: SetRecord
    let snapshot: Snapshot
    let metadata: SnapshotMetadata

    static func find(_ set: SetRecord, in repository: Repository) async throws -> SetSource {
        for stored in try await repository.snapshots() {
            if let metadata = try? stored.snapshot.metadata.decode(as: SnapshotMetadata.self), metadata.set == set.id {
                return SetSource(repository: repository, set: set, snapshot: stored.snapshot, metadata: metadata)
            }
        }
        throw OperatorError.failed("set \(set.name) is not in the repository \(repository.backend.location)",
                                   remedy: "check --repo; `valkyrie verify` lists the sets the repository holds")
    }

    var version: VersionRecord { metadata.version }

    func has(_ root: String) -> Bool { snapshot.roots[root] != nil }

    /// The file at `path` of tree root `root` (for a single-file root, `path` is empty), or nil.
    func node(_ root: String, _ path: String = "") async throws -> Node? {
        guard let value = snapshot.roots[root] else { return nil }
        return try await repository.node(at: path, in: value)
    }

    func read(_ node: Node) async throws -> Data {
        try await repository.read(node, offset: 0, length: Int(node.size))
    }

    /// The whole content of a file of the set, or nil when the set has none there.
    func contents(_ root: String, _ path: String = "") async throws -> Data? {
        guard let node = try await node(root, path), node.type == .file else { return nil }
        return try await read(node)
    }

    /// Restores a tree root into `directory` (made by the restorer), or returns false when the set has none.
    func restore(_ root: String, into directory: String) async throws -> Bool {
        guard case let .tree(id)? = snapshot.roots[root] else { return false }
        _ = try await Restorer(repository: repository).restoreTree(id, into: directory)
        return true
    }

    /// The file names directly under `path` of a tree root (the names of the key exports, the S3 objects...).
    func walk(_ root: String, visit: (String, Node) async throws -> Void) async throws {
        guard case let .tree(id)? = snapshot.roots[root] else { return }
        try await repository.walk(id, visit: visit)
    }
}
