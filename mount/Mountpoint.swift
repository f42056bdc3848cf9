import Foundation
import Support

/// Checks a mountpoint before mounting, so a stale FUSE mount left by a crash is explained, not just refused.
public enum Mountpoint {
    public static func check(_ path: String) throws {
        var status = stat()
        if stat(path, &status) != 0 {
            let error = errno
            if error == ENOTCONN {
                throw OperatorError.failed(
                    "\(path) is a stale mount: the process that served it ended without unmounting (Transport endpoint is not connected)",
                    remedy: "run `fusermount3 -u \(path)` (or `umount -l \(path)`), then mount again")
            }
            throw OperatorError.badInput("mountpoint \(path) cannot be used (\(String(cString: strerror(error))))",
                                         remedy: "create an empty directory there")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw OperatorError.badInput("mountpoint \(path) is not a directory", remedy: "give an empty directory")
        }
        if isMounted(path) {
            throw OperatorError.badInput("\(path) is already a mount", remedy: "unmount it first (`fusermount3 -u \(path)`), or choose another directory")
        }
    }

    /// Whether /proc/mounts lists `path` as a mountpoint.
    static func isMounted(_ path: String) -> Bool {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
        return mounts.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 1 && fields[1].replacingOccurrences(of: "\\040", with: " ") == absolute
        }
    }
}
