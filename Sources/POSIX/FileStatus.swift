#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Support

/// `lstat(2)` of one path, as plain Swift values (the kernel's struct never leaves this module).
public struct FileStatus: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case file, dir, symlink, fifo, chardev, blockdev, socket
    }

    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    public var mtime: FileTime
    public var ctime: FileTime
    public var inode: UInt64
    public var device: UInt64
    public var links: UInt64
    public var rdev: UInt64
}

/// Seconds and nanoseconds since the epoch, exactly as the filesystem keeps them.
public struct FileTime: Sendable, Equatable, Hashable, Codable {
    public var s: Int64
    public var ns: Int64

    public init(s: Int64, ns: Int64) {
        self.s = s
        self.ns = ns
    }

    public var date: Date { Date(timeIntervalSince1970: Double(s) + Double(ns) / 1e9) }
}

public enum POSIX {
    /// `lstat` of `path` (symlinks are not followed).
    public static func lstat(_ path: String) throws -> FileStatus {
        var st = stat()
        guard Glibc.lstat(path, &st) == 0 else { throw failure("cannot stat", path) }
        let kind: FileStatus.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .dir
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFCHR: kind = .chardev
        case S_IFBLK: kind = .blockdev
        default: kind = .socket
        }
        return FileStatus(
            kind: kind, permissions: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid,
            size: Int64(st.st_size),
            mtime: FileTime(s: Int64(st.st_mtim.tv_sec), ns: Int64(st.st_mtim.tv_nsec)),
            ctime: FileTime(s: Int64(st.st_ctim.tv_sec), ns: Int64(st.st_ctim.tv_nsec)),
            inode: UInt64(st.st_ino), device: UInt64(st.st_dev), links: UInt64(st.st_nlink), rdev: UInt64(st.st_rdev))
    }

    /// The target of the symlink at `path`, as raw bytes decoded as UTF-8.
    public static func readlink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw failure("cannot read symlink", path) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sets owner (without following symlinks).
    public static func lchown(_ path: String, uid: UInt32, gid: UInt32) throws {
        guard Glibc.lchown(path, uid, gid) == 0 else { throw failure("cannot change owner of", path) }
    }

    /// Sets permission bits (never called on symlinks: Linux has no symlink modes).
    public static func chmod(_ path: String, _ permissions: UInt32) throws {
        guard Glibc.chmod(path, mode_t(permissions)) == 0 else { throw failure("cannot change mode of", path) }
    }

    /// Sets atime and mtime (without following symlinks).
    public static func setTimes(_ path: String, access: FileTime, modification: FileTime) throws {
        var times = [timespec(tv_sec: Int(access.s), tv_nsec: Int(access.ns)),
                     timespec(tv_sec: Int(modification.s), tv_nsec: Int(modification.ns))]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw failure("cannot set times of", path)
        }
    }

    /// Creates a FIFO or device node.
    public static func mknod(_ path: String, kind: FileStatus.Kind, permissions: UInt32, rdev: UInt64) throws {
        let type: mode_t = switch kind {
        case .fifo: S_IFIFO
        case .chardev: S_IFCHR
        case .blockdev: S_IFBLK
        default: S_IFSOCK
        }
        guard Glibc.mknod(path, type | mode_t(permissions), dev_t(rdev)) == 0 else {
            throw failure("cannot create node", path)
        }
    }

    /// The user name of `uid`, if the system knows one.
    public static func userName(_ uid: UInt32) -> String? {
        var entry = passwd(), result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: entry.pw_name)
    }

    /// The group name of `gid`, if the system knows one.
    public static func groupName(_ gid: UInt32) -> String? {
        var entry = group(), result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: entry.gr_name)
    }

    static func failure(_ what: String, _ path: String) -> OperatorError {
        OperatorError.failed("\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
