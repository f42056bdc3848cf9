import Foundation
import POSIX
import Support

public typealias NodeKind = FileStatus.Kind

/// One entry of a tree: a file, directory, symlink or special file, with its metadata and content.
public struct Node: Sendable, Codable, Equatable {
    public var name: String
    public var type: NodeKind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var user: String?
    public var group: String?
    public var mtime: FileTime
    public var ctime: FileTime?
    public var size: Int64
    public var inode: UInt64?
    public var device: UInt64?
    public var links: UInt64?
    /// For the second and later names of one inode within a root: the root-relative path of its first name.
    public var hardLink: String?
    public var target: String?
    public var rdev: UInt64?
    public var xattrs: [ExtendedAttribute]?
    /// Data blob ids, in order (files).
    public var content: [BlobID]?
    /// Set when `content` is a zstd patch (`Zstd.compress(_:prefix:limit:)`) rather than the file itself: the data blob ids
    /// of the file it patches, whose bytes, joined, are the patch's prefix (repository version 2).
    public var patchBase: [BlobID]?

    /// Every data blob the node needs: its content and, for a patch, the file it patches.
    public var dataBlobs: [BlobID] { (content ?? []) + (patchBase ?? []) }
    /// Tree blob id (directories).
    public var subtree: BlobID?

    public init(name: String, type: NodeKind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
                user: String? = nil, group: String? = nil, mtime: FileTime, ctime: FileTime? = nil, size: Int64 = 0,
                inode: UInt64? = nil, device: UInt64? = nil, links: UInt64? = nil, hardLink: String? = nil,
                target: String? = nil, rdev: UInt64? = nil, xattrs: [ExtendedAttribute]? = nil,
                content: [BlobID]? = nil, patchBase: [BlobID]? = nil, subtree: BlobID? = nil) {
        self.name = name
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.user = user
        self.group = group
        self.mtime = mtime
        self.ctime = ctime
        self.size = size
        self.inode = inode
        self.device = device
        self.links = links
        self.hardLink = hardLink
        self.target = target
        self.rdev = rdev
        self.xattrs = xattrs
        self.content = content
        self.patchBase = patchBase
        self.subtree = subtree
    }
}

public struct ExtendedAttribute: Sendable, Codable, Equatable {
    public var name: String
    public var value: Data

    public init(name: String, value: Data) {
        self.name = name
        self.value = value
    }
}

/// A directory's entries, sorted by name; encodes deterministically so equal directories are one blob.
public struct Tree: Sendable, Codable, Equatable {
    public private(set) var nodes: [Node]

    public init(nodes: [Node]) {
        self.nodes = nodes.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// The nodes as stored (already in order).
    init(decoded nodes: [Node]) {
        self.nodes = nodes
    }

    public subscript(name: String) -> Node? {
        nodes.first { $0.name == name }
    }

    /// `JSONFormat.encoder()`'s bytes (sorted keys, no whitespace), written by `TreeJSON`.
    func encoded() -> Data {
        TreeJSON.encode(self)
    }

    /// A stored tree's bytes decoded.
    init(json: Data) throws {
        self = try TreeJSON.decode(json)
    }
}
