import CFUSE3
import Foundation

/// The object behind a session's userdata pointer: the filesystem and the open directory listings.
final class Dispatcher: Sendable {
    let filesystem: any ReadOnlyFilesystem
    let directories = HandleTable<[DirectoryEntry]>()

    init(filesystem: any ReadOnlyFilesystem) {
        self.filesystem = filesystem
    }

    static func of(_ request: fuse_req_t?) -> Dispatcher {
        Unmanaged<Dispatcher>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue()
    }

    /// Runs `body`, answering the request with its errno if it throws.
    static func answer(_ request: fuse_req_t?, _ body: (Dispatcher) throws -> Void) {
        do {
            try body(of(request))
        } catch let error as FUSEError {
            fuse_reply_err(request, error.errno)
        } catch {
            fuse_reply_err(request, EIO)
        }
    }
}

/// The low-level callbacks: each translates one kernel request into a `ReadOnlyFilesystem` call.
enum Operations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.lookup = { request, parent, name in
            Dispatcher.answer(request) { d in
                var entry = Operations.entryParameter(try d.filesystem.lookup(parent: parent, name: String(cString: name!)))
                fuse_reply_entry(request, &entry)
            }
        }
        // The kernel dropped its references to inodes: the filesystem may let them go (no reply is sent).
        ops.forget = { request, inode, lookups in
            Dispatcher.of(request).filesystem.forget(inode, lookups: lookups)
            fuse_reply_none(request)
        }
        ops.forget_multi = { request, count, forgets in
            let filesystem = Dispatcher.of(request).filesystem
            for item in UnsafeBufferPointer(start: forgets, count: count) { filesystem.forget(item.ino, lookups: item.nlookup) }
            fuse_reply_none(request)
        }
        ops.getattr = { request, inode, _ in
            Dispatcher.answer(request) { d in
                let attributes = try d.filesystem.attributes(of: inode)
                var st = Operations.stat(attributes)
                fuse_reply_attr(request, &st, attributes.cacheSeconds)
            }
        }
        ops.readlink = { request, inode in
            Dispatcher.answer(request) { d in
                let target = try d.filesystem.readlink(inode)
                _ = target.withCString { fuse_reply_readlink(request, $0) }
            }
        }
        ops.open = { request, inode, info in
            Dispatcher.answer(request) { d in
                guard (info!.pointee.flags & O_ACCMODE) == O_RDONLY else { throw FUSEError(EROFS) }
                let file = try d.filesystem.open(inode)
                info!.pointee.fh = file.handle
                info!.pointee.keep_cache = file.keepCache ? 1 : 0
                fuse_reply_open(request, info)
            }
        }
        ops.read = { request, inode, size, offset, info in
            Dispatcher.answer(request) { d in
                let data = try d.filesystem.read(inode, handle: info!.pointee.fh, offset: Int(offset), size: size)
                _ = data.withUnsafeBytes { fuse_reply_buf(request, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
            }
        }
        ops.release = { request, inode, info in
            Dispatcher.of(request).filesystem.release(inode, handle: info!.pointee.fh)
            fuse_reply_err(request, 0)
        }
        ops.opendir = { request, inode, info in
            Dispatcher.answer(request) { d in
                let listing = [DirectoryEntry(name: ".", inode: inode, kind: .directory),
                               DirectoryEntry(name: "..", inode: inode, kind: .directory)]
                    + (try d.filesystem.entries(of: inode))
                info!.pointee.fh = d.directories.insert(listing)
                fuse_reply_open(request, info)
            }
        }
        ops.readdir = { request, _, size, offset, info in
            Dispatcher.answer(request) { d in
                guard let listing = d.directories[info!.pointee.fh] else { throw FUSEError(EBADF) }
                try Operations.replyDirectory(request, listing, size: size, from: Int(offset))
            }
        }
        ops.releasedir = { request, _, info in
            Dispatcher.of(request).directories.remove(info!.pointee.fh)
            fuse_reply_err(request, 0)
        }
        ops.getxattr = { request, inode, name, size in
            Dispatcher.answer(request) { d in
                let value = try d.filesystem.extendedAttribute(inode, name: String(cString: name!))
                try Operations.replyXattr(request, value, size: size)
            }
        }
        ops.listxattr = { request, inode, size in
            Dispatcher.answer(request) { d in
                let names = try d.filesystem.extendedAttributeNames(inode)
                try Operations.replyXattr(request, Data(names.flatMap { Array($0.utf8) + [0] }), size: size)
            }
        }
        ops.statfs = { request, _ in
            var stats = statvfs()
            stats.f_bsize = 4096
            stats.f_frsize = 4096
            stats.f_namemax = 255
            fuse_reply_statfs(request, &stats)
        }
        return ops
    }

    private static func stat(_ a: FileAttributes) -> Glibc.stat {
        var st = Glibc.stat()
        st.st_ino = ino_t(a.inode)
        st.st_mode = a.kind.modeBits | mode_t(a.permissions & 0o7777)
        st.st_nlink = nlink_t(a.linkCount)
        st.st_uid = a.uid
        st.st_gid = a.gid
        st.st_size = off_t(a.size)
        st.st_blksize = 4096
        st.st_blocks = blkcnt_t((a.size + 511) / 512)
        st.st_mtim = timespec(a.modified)
        st.st_ctim = timespec(a.changed)
        st.st_atim = timespec(a.accessed)
        return st
    }

    private static func timespec(_ t: Timestamp) -> Glibc.timespec {
        Glibc.timespec(tv_sec: Int(t.seconds), tv_nsec: Int(t.nanoseconds))
    }

    private static func entryParameter(_ attributes: FileAttributes) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = attributes.inode
        entry.attr = stat(attributes)
        entry.attr_timeout = attributes.cacheSeconds
        entry.entry_timeout = attributes.cacheSeconds
        return entry
    }

    /// Packs as many entries from `start` as fit in `size` bytes; the next offset is the entry's index + 1.
    private static func replyDirectory(_ request: fuse_req_t?, _ listing: [DirectoryEntry], size: Int, from start: Int) throws {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { buffer.deallocate() }
        var used = 0
        var index = start
        while index < listing.count {
            let entry = listing[index]
            var st = Glibc.stat()
            st.st_ino = ino_t(entry.inode)
            st.st_mode = entry.kind.modeBits
            let needed = entry.name.withCString {
                fuse_add_direntry(request, buffer + used, size - used, $0, &st, off_t(index + 1))
            }
            if needed > size - used { break }
            used += needed
            index += 1
        }
        fuse_reply_buf(request, buffer, used)
    }

    /// getxattr/listxattr protocol: size 0 asks for the length; a too-small buffer is ERANGE.
    private static func replyXattr(_ request: fuse_req_t?, _ value: Data, size: Int) throws {
        if size == 0 {
            fuse_reply_xattr(request, value.count)
        } else if value.count > size {
            throw FUSEError(ERANGE)
        } else {
            _ = value.withUnsafeBytes { fuse_reply_buf(request, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }
}
