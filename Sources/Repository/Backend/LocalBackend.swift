import Foundation
import POSIX
import Support

/// A repository in a local folder. Objects are written to a temp file beside their final name, fsynced and
/// renamed into place, and the folder is fsynced, so a crash leaves either the whole object or none of it.
public struct LocalBackend: Backend {
    public let root: URL
    public var location: String { root.path }

    /// Temp files carry this prefix and are never listed.
    static let tempPrefix = ".tmp-"

    public init(path: String) {
        root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    private func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    public func put(_ name: String, _ data: Data) async throws {
        // fsync blocks for a while: off the cooperative pool, so chunking and encryption go on meanwhile.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(with: Result { try self.write(name, data) })
            }
        }
    }

    private func write(_ name: String, _ data: Data) throws {
        let target = url(name)
        let folder = target.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let temp = folder.appendingPathComponent(Self.tempPrefix + UUID().uuidString)
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw unavailable("cannot create \(temp.path)")
            }
            let handle = try FileHandle(forWritingTo: temp)
            do {
                try handle.write(contentsOf: data)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? FileManager.default.removeItem(at: temp)
                throw error
            }
            // rename(2) replaces atomically; names are content-addressed, so a replaced object is identical.
            guard rename(temp.path, target.path) == 0 else {
                try? FileManager.default.removeItem(at: temp)
                throw unavailable("cannot rename into \(name): \(String(cString: strerror(errno)))")
            }
            let dir = try FileHandle(forReadingFrom: folder)
            try? dir.synchronize()
            try dir.close()
        } catch let error as BackendError {
            throw error
        } catch {
            throw unavailable("cannot write \(name): \(error.localizedDescription)")
        }
    }

    public func get(_ name: String) async throws -> Data {
        guard let data = FileManager.default.contents(atPath: url(name).path) else {
            throw BackendError.notFound(location: location, name: name)
        }
        return data
    }

    public func get(_ name: String, offset: Int, length: Int) async throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: url(name).path) else {
            throw BackendError.notFound(location: location, name: name)
        }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else { throw unavailable("\(name) is shorter than \(offset + length) bytes") }
            return data
        } catch let error as BackendError {
            throw error
        } catch {
            throw unavailable("cannot read \(name): \(error.localizedDescription)")
        }
    }

    public func size(_ name: String) async throws -> Int? {
        guard let status = try? POSIX.lstat(url(name).path) else { return nil }
        return Int(status.size)
    }

    public func list(prefix: String) async throws -> [BackendObject] {
        // Walk only the folder the prefix names (`data/`, `index/`, ...), not the whole repository. lstat, not
        // FileManager's attributes, which look each file's owner up in /etc/passwd and /etc/group.
        let folder = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        var objects: [BackendObject] = []
        var pending = [folder]
        while let relative = pending.popLast() {
            let path = relative.isEmpty ? root.path : url(relative).path
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for entry in names where !entry.hasPrefix(Self.tempPrefix) {
                let name = relative.isEmpty ? entry : "\(relative)/\(entry)"
                guard let status = try? POSIX.lstat("\(path)/\(entry)") else { continue }  // removed meanwhile
                if status.kind == .dir {
                    pending.append(name)
                } else if status.kind == .file, name.hasPrefix(prefix) {
                    objects.append(BackendObject(name: name, size: Int(status.size), modified: status.mtime.date))
                }
            }
        }
        return objects.sorted { $0.name < $1.name }
    }

    public func delete(_ name: String) async throws {
        do {
            try FileManager.default.removeItem(at: url(name))
        } catch CocoaError.fileNoSuchFile {
            return
        } catch {
            if FileManager.default.fileExists(atPath: url(name).path) {
                throw unavailable("cannot delete \(name): \(error.localizedDescription)")
            }
        }
    }

    /// Removes the temp files that writers killed mid-write left behind, if they are older than `date`
    /// (younger ones may be a running writer's); returns how many bytes that freed.
    public func removeStaleTemporaries(olderThan date: Date) -> Int64 {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
        else { return 0 }
        var freed: Int64 = 0
        for case let file as URL in walker where file.lastPathComponent.hasPrefix(Self.tempPrefix) {
            guard let values = try? file.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey]),
                  let modified = values.contentModificationDate, modified < date,
                  (try? FileManager.default.removeItem(at: file)) != nil else { continue }
            freed += Int64(values.fileSize ?? 0)
        }
        return freed
    }

    private func unavailable(_ detail: String) -> BackendError {
        .unavailable(location: location, detail: detail)
    }
}
