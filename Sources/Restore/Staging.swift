import Foundation
import POSIX
import Support

/// Where a restore writes first: a hidden folder inside the destination, so nothing appears under its real
/// name until it is complete, and a failure leaves nothing behind.
struct Staging {
    let destination: String
    let folder: String

    /// Checks that `destination` is (or can be made) a writable folder and opens a staging folder in it.
    init(in destination: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw OperatorError.badInput("target \(destination) is not a folder", remedy: "give a folder with --to")
        }
        self.destination = destination
        folder = "\(destination)/.valkyrie-restore-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw OperatorError.badInput("target \(destination) is not writable (\(Self.reason(error)))",
                                         remedy: "choose a folder you can write to with --to")
        }
    }

    /// Refuses a target that exists, unless the operator asked to overwrite it.
    static func checkFree(_ target: String, overwrite: Bool) throws {
        if !overwrite, exists(target) {
            throw OperatorError.badInput("target \(target) exists", remedy: "restore elsewhere with --to, or pass --overwrite")
        }
    }

    /// `folder/relative`, its parent folders made.
    func path(_ relative: String) throws -> String {
        let path = "\(folder)/\(relative)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return path
    }

    /// Moves `folder/relative` to `destination/relative`, replacing what is there only with `overwrite`.
    func place(_ relative: String, overwrite: Bool) throws {
        let target = "\(destination)/\(relative)"
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if Self.exists(target) {
            guard overwrite else {
                throw OperatorError.badInput("target \(target) exists", remedy: "restore elsewhere with --to, or pass --overwrite")
            }
            try FileManager.default.removeItem(atPath: target)
        }
        do {
            try FileManager.default.moveItem(atPath: "\(folder)/\(relative)", toPath: target)  // one rename: same filesystem
        } catch {
            throw OperatorError.failed("cannot move the restored \(relative) into \(destination) (\(Self.reason(error)))",
                                       remedy: "check the destination's permissions")
        }
    }

    /// Whether anything (a dangling symlink too) is at `path`.
    static func exists(_ path: String) -> Bool {
        (try? POSIX.lstat(path)) != nil
    }

    func discard() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static func reason(_ error: Error) -> String {
        ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError ?? error as NSError).localizedDescription
    }
}
