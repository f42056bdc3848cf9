#if canImport(Glibc)
import Glibc
#endif
import CPOSIX
import Foundation
import Support

/// Extended attributes of a path, never following symlinks.
public enum ExtendedAttributes {
    /// Every attribute name of `path`; an unsupported filesystem has none.
    public static func names(_ path: String) throws -> [String] {
        let size = llistxattr(path, nil, 0)
        if size < 0 {
            if errno == ENOTSUP { return [] }
            throw POSIX.failure("cannot list xattrs of", path)
        }
        if size == 0 { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let n = llistxattr(path, &buffer, size)
        guard n >= 0 else { throw POSIX.failure("cannot list xattrs of", path) }
        return buffer[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    /// The value of attribute `name` of `path`.
    public static func value(_ path: String, _ name: String) throws -> Data {
        let size = lgetxattr(path, name, nil, 0)
        guard size >= 0 else { throw POSIX.failure("cannot read xattr \(name) of", path) }
        var buffer = [UInt8](repeating: 0, count: size)
        let n = lgetxattr(path, name, &buffer, size)
        guard n >= 0 else { throw POSIX.failure("cannot read xattr \(name) of", path) }
        return Data(buffer[0..<n])
    }

    /// Sets attribute `name` of `path`.
    public static func set(_ path: String, _ name: String, _ value: Data) throws {
        let bytes = [UInt8](value)
        guard lsetxattr(path, name, bytes, bytes.count, 0) == 0 else {
            throw POSIX.failure("cannot set xattr \(name) on", path)
        }
    }
}
