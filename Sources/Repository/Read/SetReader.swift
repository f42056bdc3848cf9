import Foundation
import Support
import Zstd

extension Repository {
    /// Every set in the repository, oldest first.
    public func snapshots() async throws -> [StoredSnapshot] {
        var out: [StoredSnapshot] = []
        for object in try await backend.list(prefix: "snapshots/") {
            guard let id = BlobID(hex: String(object.name.dropFirst("snapshots/".count))) else { continue }
            out.append(StoredSnapshot(id: id, snapshot: try await snapshot(id)))
        }
        return out.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }
    }

    /// Every set with the storage's time of its landing (`BackendObject.modified`): what forget orders by
    /// rather than trusting the time the writing client put inside.
    public func landedSnapshots() async throws -> [(stored: StoredSnapshot, landed: Date?)] {
        var out: [(stored: StoredSnapshot, landed: Date?)] = []
        for object in try await backend.list(prefix: "snapshots/") {
            guard let id = BlobID(hex: String(object.name.dropFirst("snapshots/".count))) else { continue }
            out.append((StoredSnapshot(id: id, snapshot: try await snapshot(id)), object.modified))
        }
        return out
    }

    /// Removes a set's snapshot (forget); its data stays until a prune finds nothing else uses it.
    public func removeSnapshot(_ id: BlobID) async throws {
        try await backend.delete("snapshots/\(id.hex)")
    }

    /// The set stored under `id`.
    public func snapshot(_ id: BlobID) async throws -> Snapshot {
        let plain = try await loadObject("snapshots/\(id.hex)", kind: "snapshot")
        return try JSONFormat.decoder().decode(Snapshot.self, from: plain)
    }

    /// The node at `path` (`a/b/c`, relative to the root; empty for a single-file root), or nil.
    public func node(at path: String, in root: Snapshot.Root) async throws -> Node? {
        let parts = path.split(separator: "/").map(String.init)
        switch root {
        case let .file(node):
            return parts.isEmpty || parts == [node.name] ? node : nil
        case let .tree(id):
            guard !parts.isEmpty else { return nil }
            var tree = try await tree(id)
            for (i, part) in parts.enumerated() {
                guard let node = tree[part] else { return nil }
                if i == parts.count - 1 { return node }
                guard let subtree = node.subtree else { return nil }
                tree = try await self.tree(subtree)
            }
            return nil
        }
    }

    /// Up to `length` bytes of a file node from `offset`, fetching only the chunks that hold them.
    public func read(_ node: Node, offset: Int64, length: Int) async throws -> Data {
        guard let content = node.content, offset >= 0, length > 0 else { return Data() }
        if node.patchBase != nil {
            // A read of the whole file (a backup reading the previous vault index) neither copies it nor keeps it.
            let whole = offset == 0 && Int64(length) >= node.size
            let file = try await patchedFile(node, keeping: !whole)
            if whole { return file }
            let end = Int(min(offset + Int64(length), Int64(file.count)))
            return Int(offset) < end ? file.subdata(in: Int(offset)..<end) : Data()
        }
        var out = Data()
        let end = offset + Int64(length)
        var chunkStart: Int64 = 0
        for id in content {
            guard let size = rawLength(id).map(Int64.init) else {
                throw OperatorError.failed("\(backend.location): blob \(id.short) of \(node.name) is not in the index",
                                           remedy: "run `valkyrie verify` to see which sets and files it affects")
            }
            let chunkEnd = chunkStart + size
            if chunkEnd > offset && chunkStart < end {
                let data = try await blob(id)
                let from = Int(max(offset, chunkStart) - chunkStart), to = Int(min(end, chunkEnd) - chunkStart)
                out.append(data[data.startIndex + from..<data.startIndex + to])
            }
            if chunkEnd >= end { break }
            chunkStart = chunkEnd
        }
        return out
    }

    /// Writes a file node's whole content to `handle`, chunk by chunk.
    public func write(_ node: Node, to handle: FileHandle) async throws {
        if node.patchBase != nil { return try handle.write(contentsOf: try await patchedFile(node, keeping: false)) }
        for id in node.content ?? [] {
            try handle.write(contentsOf: try await blob(id))
        }
    }

    /// A patch node's file: the patch (its content) applied on its base's bytes (`patchBase`, joined), rebuilt in a
    /// patch turn (`PatchTurns`). `keeping` keeps it for the next call on the same node (the mount reads a file piece
    /// by piece).
    public func patchedFile(_ node: Node, keeping: Bool = true) async throws -> Data {
        let blobs = node.dataBlobs
        if let last = lastPatched.withLock({ $0 }), last.blobs == blobs { return last.file }
        let file = try await PatchTurns.shared.run {
            let base = try await joined(node.patchBase ?? [], limit: Int.max)!, patch = try await joined(node.content ?? [], limit: Int.max)!
            do {
                return try Zstd.decompress(patch, prefix: base, limit: Int(node.size))
            } catch {
                throw OperatorError.failed("\(backend.location): \(node.name) does not rebuild from its patch (\(error))",
                                           remedy: "run `valkyrie verify --read-data` to see which sets and files it affects")
            }
        }
        guard file.count == Int(node.size) else {
            throw OperatorError.failed("\(backend.location): \(node.name) rebuilds to \(file.count) bytes, not \(node.size)",
                                       remedy: "run `valkyrie verify --read-data` to see which sets and files it affects")
        }
        if keeping { lastPatched.withLock { $0 = (blobs, file) } }
        return file
    }

    /// The blobs' plaintexts joined, or nil when they add up to more than `limit` bytes (none is read then).
    public func joined(_ ids: [BlobID], limit: Int) async throws -> Data? {
        var total = 0
        for id in ids {
            guard let length = rawLength(id) else {
                throw OperatorError.failed("\(backend.location): blob \(id.short) is not in the index",
                                           remedy: "run `valkyrie verify` to see which sets and files it affects")
            }
            total += length
            if total > limit { return nil }
        }
        var out = Data(capacity: total)
        for id in ids { out.append(try await blob(id, caching: false)) }
        return out
    }

    /// Calls `visit` for every node under tree `id`, depth-first, with its path relative to the tree.
    public func walk(_ id: BlobID, path: String = "", visit: (String, Node) async throws -> Void) async throws {
        for node in try await tree(id).nodes {
            let nodePath = path.isEmpty ? node.name : "\(path)/\(node.name)"
            try await visit(nodePath, node)
            if let subtree = node.subtree { try await walk(subtree, path: nodePath, visit: visit) }
        }
    }
}
