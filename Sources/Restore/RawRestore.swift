import Catalog
import Foundation
import Repository
import Support

/// `valkyrie restore SET:PATH --to DIR`: a file or folder of a set, with owners, modes, times, symlinks and
/// xattrs, written through a staging folder and moved into place when complete.
public enum RawRestore {
    /// What one restore wrote, summed over the entries it took.
    struct Restored {
        var files = 0
        var bytes: Int64 = 0
        var warnings: [String] = []
    }

    public struct Summary: Codable, Sendable {
        public var set: String
        public var path: String
        public var target: String
        public var kind: String
        public var files: Int
        public var bytes: Int64
        public var dryRun: Bool
        /// Paths whose owner, mode, xattrs or times could not be set.
        public var warnings: [String]
    }

    public static func run(_ source: SetSource, path: String, to directory: String, overwrite: Bool, dryRun: Bool) async throws -> Summary {
        guard SetSource.normalized(path) != "/" else {
            throw OperatorError.badInput("restore SET:PATH takes a file or folder of the set, not the whole set",
                                         remedy: "restore a whole set with `valkyrie restore \(source.set.name) --full --root DIR`")
        }
        let entry = try source.entry(path)
        let name = (entry.entry.path as NSString).lastPathComponent
        let target = "\(directory)/\(name)"
        try Staging.checkFree(target, overwrite: overwrite)
        var summary = Summary(set: source.set.name, path: entry.entry.path, target: target, kind: entry.entry.kind.rawValue,
                              files: 0, bytes: 0, dryRun: dryRun, warnings: [])
        if dryRun {
            let below = entry.entry.path + "/"
            let files = try source.catalog.entries(of: source.set).filter {
                $0.entry.kind == .file && ($0.entry.path == entry.entry.path || $0.entry.path.hasPrefix(below))
            }
            summary.files = files.count
            summary.bytes = files.reduce(0) { $0 + $1.entry.size }
            return summary
        }
        let staging = try Staging(in: directory)
        defer { staging.discard() }
        let result = try await restore(entry, at: try staging.path(name), source: source)
        try staging.place(name, overwrite: overwrite)
        summary.files = result.files
        summary.bytes = result.bytes
        summary.warnings = result.warnings.map { $0.replacingOccurrences(of: staging.folder, with: directory) }
        try source.catalog.append(FileRestored(set: source.set.id, item: entry.item, path: entry.entry.path, target: target,
                                               size: result.bytes, digest: entry.entry.version))
        return summary
    }

    /// An entry written at `path`: through its repository node, or, for the folders above item roots, one
    /// child at a time from the index.
    static func restore(_ entry: IndexedFile, at path: String, source: SetSource) async throws -> Restored {
        if let node = try await source.node(entry.entry) {
            // The path below the item's root, as the archiver recorded hard links.
            let below = entry.entry.path.dropFirst(entry.item.count + 1).drop { $0 == "/" }
            let result = try await Restorer(repository: source.repository).restore(node, to: path, relative: String(below))
            return Restored(files: result.files, bytes: result.bytes, warnings: result.warnings)
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var total = Restored()
        for child in try source.catalog.listDirectory(entry.entry.path, in: source.set) {
            let part = try await restore(child, at: "\(path)/\((child.entry.path as NSString).lastPathComponent)", source: source)
            total.files += part.files
            total.bytes += part.bytes
            total.warnings += part.warnings
        }
        return total
    }
}
