import Foundation

/// A read-only filesystem served through FUSE's low-level API. Inode numbers are the filesystem's own and
/// must be stable (the root is inode 1). Every method may be called from several threads at once.
///
/// Throw `FUSEError` to answer with an errno; any other error is answered with EIO.
public protocol ReadOnlyFilesystem: AnyObject, Sendable {
    /// The entry `name` in directory `parent` (ENOENT if there is none).
    func lookup(parent: UInt64, name: String) throws -> FileAttributes
    /// The kernel dropped `lookups` of the references that `lookup` answers gave it to `inode`; once all are
    /// dropped it will not ask about the inode again until a new `lookup`.
    func forget(_ inode: UInt64, lookups: UInt64)
    /// The attributes of `inode`.
    func attributes(of inode: UInt64) throws -> FileAttributes
    /// Every entry of directory `inode`, without `.` and `..` (the wrapper adds them).
    func entries(of inode: UInt64) throws -> [DirectoryEntry]
    /// Opens a regular file for reading; the returned handle comes back in `read` and `release`.
    func open(_ inode: UInt64) throws -> OpenFile
    /// Up to `size` bytes from `offset`; fewer only at the end of the file.
    func read(_ inode: UInt64, handle: UInt64, offset: Int, size: Int) throws -> Data
    /// The file handle is no longer used.
    func release(_ inode: UInt64, handle: UInt64)
    /// The target of symlink `inode`.
    func readlink(_ inode: UInt64) throws -> String
    /// The value of extended attribute `name` (ENODATA when absent).
    func extendedAttribute(_ inode: UInt64, name: String) throws -> Data
    /// The names of `inode`'s extended attributes.
    func extendedAttributeNames(_ inode: UInt64) throws -> [String]
}

extension ReadOnlyFilesystem {
    public func forget(_ inode: UInt64, lookups: UInt64) {}
    public func open(_ inode: UInt64) throws -> OpenFile { OpenFile(handle: 0) }
    public func release(_ inode: UInt64, handle: UInt64) {}
    public func readlink(_ inode: UInt64) throws -> String { throw FUSEError(EINVAL) }
    public func extendedAttribute(_ inode: UInt64, name: String) throws -> Data { throw FUSEError(ENODATA) }
    public func extendedAttributeNames(_ inode: UInt64) throws -> [String] { [] }
}

/// The root directory's inode number, fixed by FUSE.
public let rootInode: UInt64 = 1

public struct FileAttributes: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink

        var modeBits: mode_t {
            switch self {
            case .regular: S_IFREG
            case .directory: S_IFDIR
            case .symlink: S_IFLNK
            }
        }
    }

    public var inode: UInt64
    public var kind: Kind
    /// Permission bits (`0o7777` at most).
    public var permissions: UInt16
    public var size: UInt64
    public var uid: UInt32
    public var gid: UInt32
    public var linkCount: UInt32
    public var modified: Timestamp
    public var changed: Timestamp
    public var accessed: Timestamp
    /// How long the kernel may cache this entry and its attributes, in seconds. Contents that never change
    /// can be cached for long; names that move (a `latest` link) should be short.
    public var cacheSeconds: Double

    public init(inode: UInt64, kind: Kind, permissions: UInt16, size: UInt64 = 0, uid: UInt32 = 0, gid: UInt32 = 0,
                linkCount: UInt32 = 1, modified: Timestamp = .zero, changed: Timestamp? = nil,
                accessed: Timestamp? = nil, cacheSeconds: Double = 3600) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.size = size
        self.uid = uid
        self.gid = gid
        self.linkCount = linkCount
        self.modified = modified
        self.changed = changed ?? modified
        self.accessed = accessed ?? modified
        self.cacheSeconds = cacheSeconds
    }
}

public struct Timestamp: Sendable, Equatable, Hashable, Codable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let zero = Timestamp(seconds: 0)
}

public struct DirectoryEntry: Sendable, Equatable {
    public var name: String
    public var inode: UInt64
    public var kind: FileAttributes.Kind

    public init(name: String, inode: UInt64, kind: FileAttributes.Kind) {
        self.name = name
        self.inode = inode
        self.kind = kind
    }
}

public struct OpenFile: Sendable {
    public var handle: UInt64
    /// Keep the kernel's page cache across opens: right for contents that never change.
    public var keepCache: Bool

    public init(handle: UInt64, keepCache: Bool = true) {
        self.handle = handle
        self.keepCache = keepCache
    }
}

/// An errno answer to a FUSE request (`FUSEError(ENOENT)`, `FUSEError(EACCES)`).
public struct FUSEError: Error, Sendable, Equatable {
    public var errno: Int32
    public init(_ errno: Int32) { self.errno = errno }
}
