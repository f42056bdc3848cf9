import Foundation
import POSIX
import Repository
import Synchronization

/// A directory of the host as a tree: modes, owners, times, symlinks, xattrs; files whose size, mtime, ctime
/// and inode match the previous set's tree are not read again.
struct TreeSource {
    let root: String
    let path: String
    /// Names directly under `path` to leave out.
    let excludes: [String]
    let writer: SetWriter
    let parent: BlobID?
    let progress: CaptureProgress
    /// Sees the files read, by path relative to `path`.
    var observe: (@Sendable (String) -> (any ReadObserver)?)? = nil

    func capture() async throws -> CapturedItem {
        let started = Date()
        let excluded = Set(excludes)
        // Added as it goes (the dump and the buckets add theirs at the same time).
        let reported = Mutex((files: 0, bytes: Int64(0)))
        let report: @Sendable (Int, Int64) -> Void = { [progress] files, bytes in
            let (newFiles, newBytes) = reported.withLock { last in
                defer { last = (max(last.files, files), max(last.bytes, bytes)) }
                return (max(0, files - last.files), max(0, bytes - last.bytes))
            }
            if newFiles > 0 || newBytes > 0 { progress.add(files: newFiles, bytes: newBytes) }
        }
        let result = try await writer.storeDirectory(at: path, options: ArchiveOptions(
            exclude: { relative, _ in excluded.contains(relative) },
            parent: parent,
            progress: { state in report(state.files, state.bytesRead) },
            observe: observe))
        report(result.progress.files, result.progress.bytesRead)
        var item = CapturedItem(root: root, value: .tree(result.tree), files: result.progress.files,
                                bytes: result.progress.bytesRead, warnings: result.warnings, started: started,
                                reused: result.progress.unchangedFiles)
        item.excluded = excludes.filter { FileManager.default.fileExists(atPath: "\(path)/\($0)") }.map { "\(path)/\($0)/" }
        return item
    }
}
