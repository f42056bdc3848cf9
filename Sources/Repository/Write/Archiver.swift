import Foundation
import POSIX
import Support
import Synchronization

/// What an archive run reports as it goes.
public struct ArchiveProgress: Sendable {
    public var files = 0
    public var directories = 0
    /// Files taken over from the parent tree without reading them.
    public var unchangedFiles = 0
    public var bytesRead: Int64 = 0
    public var currentPath = ""
}

/// Sees the bytes of one file as the archiver reads them, so a caller can hash a file on the way instead of
/// reading it a second time.
public protocol ReadObserver: Sendable {
    func update(_ bytes: ArraySlice<UInt8>)
    /// The file was read to its end, `size` bytes in all (not called when reading failed).
    func finish(size: Int64)
}

/// How to archive a directory tree.
public struct ArchiveOptions: Sendable {
    /// Returns true for entries to leave out; gets the path relative to the archived root and its status.
    public var exclude: @Sendable (_ relativePath: String, _ status: FileStatus) -> Bool
    /// The same item's tree in an earlier set: files with the same size, mtime, ctime and inode are not re-read.
    public var parent: BlobID?
    public var progress: (@Sendable (ArchiveProgress) -> Void)?
    /// An observer for the file at a relative path, for files that are read (not those taken from the parent).
    public var observe: (@Sendable (_ relativePath: String) -> (any ReadObserver)?)?

    public init(exclude: @escaping @Sendable (String, FileStatus) -> Bool = { _, _ in false },
                parent: BlobID? = nil, progress: (@Sendable (ArchiveProgress) -> Void)? = nil,
                observe: (@Sendable (String) -> (any ReadObserver)?)? = nil) {
        self.exclude = exclude
        self.parent = parent
        self.progress = progress
        self.observe = observe
    }
}

/// The result of archiving a directory tree.
public struct ArchiveResult: Sendable {
    public var tree: BlobID
    public var progress: ArchiveProgress
    /// Entries that could not be read (vanished, permission denied), each with its path; they are left out.
    public var warnings: [String]
}

extension SetWriter {
    /// Stores the directory at `path` as a tree; returns its id (a set's root).
    public func storeDirectory(at path: String, options: ArchiveOptions = ArchiveOptions()) async throws -> ArchiveResult {
        let walk = DirectoryWalk(writer: self, root: path, options: options)
        var parent: Tree?
        if let id = options.parent { parent = try await repository.tree(id) }
        let tree = try await walk.store(directory: path, relative: "", parent: parent)
        return ArchiveResult(tree: tree, progress: walk.progress.withLock { $0 }, warnings: walk.warnings.withLock { $0 })
    }

    /// Stores everything `handle` yields (a file, or a pipe such as `pg_dump`'s output) as a file node.
    public func storeStream(_ handle: FileHandle, name: String, mode: UInt32 = 0o600, mtime: Date = Date(),
                            uid: UInt32 = 0, gid: UInt32 = 0) async throws -> Node {
        let (content, size) = try await storeContent(ChunkReader(chunker: repository.chunker, handle: handle))
        return Self.fileNode(name: name, mode: mode, mtime: mtime, uid: uid, gid: gid, size: size, content: content)
    }

    /// Stores `data` as a file node (for items built in memory).
    public func storeFile(_ data: Data, name: String, mode: UInt32 = 0o600, mtime: Date = Date()) async throws -> Node {
        let (content, size) = try await storeContent(ChunkReader(chunker: repository.chunker, data: data))
        return Self.fileNode(name: name, mode: mode, mtime: mtime, uid: 0, gid: 0, size: size, content: content)
    }

    private static func fileNode(name: String, mode: UInt32, mtime: Date, uid: UInt32, gid: UInt32,
                                 size: Int64, content: [BlobID]) -> Node {
        let seconds = mtime.timeIntervalSince1970.rounded(.down)
        return Node(name: name, type: .file, mode: mode, uid: uid, gid: gid, user: POSIX.userName(uid),
                    group: POSIX.groupName(gid),
                    mtime: FileTime(s: Int64(seconds), ns: Int64(((mtime.timeIntervalSince1970 - seconds) * 1e9).rounded())),
                    size: size, content: content)
    }

    /// Stores a tree built in memory (its file nodes from `storeFile`/`storeStream`, subtrees from here).
    public func storeTree(_ tree: Tree) async throws -> BlobID {
        try await save(tree.encoded(), type: .tree)
    }

    /// Chunks `reader` in this task and hashes, compresses and encrypts the chunks in child tasks, keeping the
    /// content list in order.
    func storeContent(_ reader: ChunkReader, onRead: (@Sendable (Int) -> Void)? = nil) async throws -> (content: [BlobID], size: Int64) {
        let width = max(2, ProcessInfo.processInfo.activeProcessorCount)
        var ids: [BlobID?] = []
        try await withThrowingTaskGroup(of: (Int, BlobID).self) { group in
            var inFlight = 0
            while let chunk = try reader.next() {
                let position = ids.count
                ids.append(nil)
                onRead?(chunk.count)
                if inFlight >= width, let (done, id) = try await group.next() {
                    ids[done] = id
                    inFlight -= 1
                }
                group.addTask { (position, try await self.save(chunk, type: .data)) }
                inFlight += 1
            }
            for try await (done, id) in group { ids[done] = id }
        }
        return (ids.map { $0! }, reader.bytesRead)
    }
}

/// One walk of a directory tree. Directories are visited depth-first in name order, so hard-link "first
/// names" and therefore trees are deterministic; files of one directory are stored concurrently.
final class DirectoryWalk: Sendable {
    let writer: SetWriter
    let root: String
    let options: ArchiveOptions
    let progress = Mutex(ArchiveProgress())
    let warnings = Mutex([String]())
    private let hardLinks = Mutex([String: String]())
    private let names = Mutex(OwnerNames())

    init(writer: SetWriter, root: String, options: ArchiveOptions) {
        self.writer = writer
        self.root = root
        self.options = options
    }

    func store(directory path: String, relative: String, parent: Tree?) async throws -> BlobID {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw OperatorError.failed("cannot list \(path): \(error.localizedDescription)", remedy: "check permissions")
        }
        var nodes: [Node] = []
        var files: [(Int, String, String)] = []
        for name in entries.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let full = path == "/" ? "/\(name)" : "\(path)/\(name)"
            let rel = relative.isEmpty ? name : "\(relative)/\(name)"
            let status: FileStatus
            do { status = try POSIX.lstat(full) } catch {
                warn("\(full): \(error)")
                continue
            }
            if options.exclude(rel, status) { continue }
            var node: Node
            do { node = try metadata(name: name, path: full, status: status) } catch {
                warn("\(full): \(error)")
                continue
            }
            switch status.kind {
            case .dir:
                let sub = try await subtree(of: parent, name: name)
                node.subtree = try await store(directory: full, relative: rel, parent: sub)
                progress.withLock { $0.directories += 1 }
            case .symlink:
                node.target = try? POSIX.readlink(full)
            case .file:
                if status.links > 1 {
                    let key = "\(status.device):\(status.inode)"
                    node.hardLink = hardLinks.withLock { links in
                        if let first = links[key] { return first }
                        links[key] = rel
                        return nil
                    }
                }
                files.append((nodes.count, full, rel))
            default:
                break
            }
            nodes.append(node)
        }
        try await storeFiles(files, into: &nodes, parent: parent)
        return try await writer.save(Tree(nodes: nodes).encoded(), type: .tree)
    }

    /// Fills in file contents, a few files at a time; unchanged files take the parent's content list.
    private func storeFiles(_ files: [(Int, String, String)], into nodes: inout [Node], parent: Tree?) async throws {
        var failed: [Int] = []
        func fill(_ position: Int, _ stored: (content: [BlobID], size: Int64)?) {
            guard let stored else { return failed.append(position) }
            nodes[position].content = stored.content
            nodes[position].size = stored.size // what was read, should the file have changed meanwhile
        }
        try await withThrowingTaskGroup(of: (Int, (content: [BlobID], size: Int64)?).self) { group in
            var inFlight = 0
            for (position, path, relative) in files {
                let node = nodes[position]
                if inFlight >= 4, let (done, stored) = try await group.next() {
                    fill(done, stored)
                    inFlight -= 1
                }
                group.addTask { (position, try await self.content(of: node, at: path, relative: relative, parent: parent?[node.name])) }
                inFlight += 1
            }
            for try await (done, stored) in group { fill(done, stored) }
        }
        for position in failed.sorted(by: >) { nodes.remove(at: position) }
    }

    /// The content list of one file, or nil (with a warning) if it cannot be read.
    private func content(of node: Node, at path: String, relative: String, parent: Node?) async throws
        -> (content: [BlobID], size: Int64)? {
        if let parent, parent.type == .file, parent.size == node.size, parent.mtime == node.mtime,
           parent.ctime == node.ctime, parent.inode == node.inode, let content = parent.content,
           content.allSatisfy({ writer.repository.contains($0) }) {
            progress.withLock { $0.files += 1; $0.unchangedFiles += 1 }
            return (content, node.size)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            warn("\(path): cannot open for reading")
            return nil
        }
        defer { try? handle.close() }
        let report = options.progress
        do {
            let observer = options.observe?(relative)
            let reader = ChunkReader(chunker: writer.repository.chunker, handle: handle, observer: observer)
            let stored = try await writer.storeContent(reader) { bytes in
                let snapshot = self.progress.withLock { state in
                    state.bytesRead += Int64(bytes)
                    state.currentPath = path
                    return state
                }
                report?(snapshot)
            }
            progress.withLock { $0.files += 1 }
            observer?.finish(size: stored.size)
            return stored
        } catch let error as BackendError {
            throw error
        } catch let error as OperatorError {
            throw error
        } catch {
            // Only reading the file throws anything else: the file is left out, the set goes on.
            warn("\(path): \(error.localizedDescription)")
            return nil
        }
    }

    private func subtree(of parent: Tree?, name: String) async throws -> Tree? {
        guard let id = parent?[name]?.subtree, writer.repository.contains(id) else { return nil }
        return try? await writer.repository.tree(id)
    }

    private func metadata(name: String, path: String, status: FileStatus) throws -> Node {
        let (user, group) = names.withLock { $0.lookup(uid: status.uid, gid: status.gid) }
        var xattrs: [ExtendedAttribute] = []
        for attribute in try ExtendedAttributes.names(path).sorted() {
            xattrs.append(ExtendedAttribute(name: attribute, value: try ExtendedAttributes.value(path, attribute)))
        }
        return Node(name: name, type: status.kind, mode: status.permissions, uid: status.uid, gid: status.gid,
                    user: user, group: group, mtime: status.mtime, ctime: status.ctime,
                    size: status.kind == .file ? status.size : 0, inode: status.inode, device: status.device,
                    links: status.links, rdev: (status.kind == .chardev || status.kind == .blockdev) ? status.rdev : nil,
                    xattrs: xattrs.isEmpty ? nil : xattrs)
    }

    private func warn(_ text: String) {
        warnings.withLock { $0.append(text) }
    }
}

/// User and group names by id, looked up once each.
private struct OwnerNames {
    var users: [UInt32: String?] = [:]
    var groups: [UInt32: String?] = [:]

    mutating func lookup(uid: UInt32, gid: UInt32) -> (String?, String?) {
        if users[uid] == nil { users[uid] = .some(POSIX.userName(uid)) }
        if groups[gid] == nil { groups[gid] = .some(POSIX.groupName(gid)) }
        return (users[uid]!, groups[gid]!)
    }
}
