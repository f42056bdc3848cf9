import Foundation
import POSIX
import Repository

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
        let base = progress.snapshot()
        let result = try await writer.storeDirectory(at: path, options: ArchiveOptions(
            exclude: { relative, _ in excluded.contains(relative) },
            parent: parent,
            progress: { [progress] state in progress.update(files: base.files + state.files, bytes: base.bytes + state.bytesRead) },
            observe: observe))
        progress.update(files: base.files + result.progress.files, bytes: base.bytes + result.progress.bytesRead)
        var item = CapturedItem(root: root, value: .tree(result.tree), files: result.progress.files,
                                bytes: result.progress.bytesRead, warnings: result.warnings, started: started,
                                reused: result.progress.unchangedFiles)
        item.excluded = excludes.filter { FileManager.default.fileExists(atPath: "\(path)/\($0)") }.map { "\(path)/\($0)/" }
        return item
    }
}
