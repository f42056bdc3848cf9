import Foundation
import POSIX
import Support

/// Writes trees and files from the repository back to disk with their owners, modes, times, symlinks,
/// hard links and xattrs.
public struct Restorer: Sendable {
    public let repository: Repository
    /// Restore owners (uid/gid); by default only when running as root.
    public var restoreOwners: Bool

    public init(repository: Repository, restoreOwners: Bool = geteuid() == 0) {
        self.repository = repository
        self.restoreOwners = restoreOwners
    }

    /// What a restore did; `warnings` name each path whose metadata could not be fully set.
    public struct Result: Sendable {
        public var files = 0
        public var bytes: Int64 = 0
        public var warnings: [String] = []
    }

    /// Restores the entries of tree `id` into `directory` (created if missing).
    public func restoreTree(_ id: BlobID, into directory: String) async throws -> Result {
        var result = Result()
        var linked: [String: String] = [:]
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await restoreEntries(of: id, into: directory, relative: "", result: &result, linked: &linked)
        return result
    }

    /// Restores one node (a file, symlink, special file, or a directory with everything below) at `path`.
    /// `relative` is the node's path below the root it was archived from ("" for that root), the names hard
    /// links are recorded by; a hard link whose first name lies outside the node is restored as a copy.
    public func restore(_ node: Node, to path: String, relative: String) async throws -> Result {
        var result = Result()
        var linked: [String: String] = [:]
        try await restore(node, at: path, relative: relative, result: &result, linked: &linked)
        return result
    }

    private func restoreEntries(of id: BlobID, into directory: String, relative: String,
                                result: inout Result, linked: inout [String: String]) async throws {
        for node in try await repository.tree(id).nodes {
            let rel = relative.isEmpty ? node.name : "\(relative)/\(node.name)"
            try await restore(node, at: "\(directory)/\(node.name)", relative: rel, result: &result, linked: &linked)
        }
    }

    private func restore(_ node: Node, at path: String, relative: String,
                         result: inout Result, linked: inout [String: String]) async throws {
        switch node.type {
        case .dir:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            if let subtree = node.subtree {
                try await restoreEntries(of: subtree, into: path, relative: relative, result: &result, linked: &linked)
            }
        case .file:
            if let first = node.hardLink, let firstPath = linked[first] {
                try FileManager.default.linkItem(atPath: firstPath, toPath: path)
                return // the first name carries the metadata
            }
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw OperatorError.failed("cannot create \(path)", remedy: "check the destination's permissions and space")
            }
            defer { try? handle.close() }
            try await repository.write(node, to: handle)
            linked[relative] = path
            result.files += 1
            result.bytes += node.size
        case .symlink:
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: node.target ?? "")
        case .fifo, .chardev, .blockdev:
            try POSIX.mknod(path, kind: node.type, permissions: node.mode, rdev: node.rdev ?? 0)
        case .socket:
            return // sockets belong to running programs and are not recreated
        }
        applyMetadata(node, at: path, result: &result)
    }

    /// Owner, mode, xattrs, then times last (the others change ctime, and writing changes mtime).
    private func applyMetadata(_ node: Node, at path: String, result: inout Result) {
        do {
            if restoreOwners { try POSIX.lchown(path, uid: node.uid, gid: node.gid) }
            if node.type != .symlink { try POSIX.chmod(path, node.mode) }
            for attribute in node.xattrs ?? [] { try ExtendedAttributes.set(path, attribute.name, attribute.value) }
            try POSIX.setTimes(path, access: node.mtime, modification: node.mtime)
        } catch {
            result.warnings.append("\(path): \(error)")
        }
    }
}
