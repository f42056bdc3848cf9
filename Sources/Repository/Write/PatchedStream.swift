import Foundation
import Zstd

/// Files that change a little everywhere each day (the dump, the vault index, the S3 object list) share no chunk with their last
/// version, so they are stored as a zstd patch on the file their previous version is, or patches (its base, never
/// a patch itself), unless the patch would not be much smaller (docs/repository-format.md, "Patches").
extension SetWriter {
    /// A patch needs the file and its base in memory (one patch at a time: `PatchTurns`): each is patched only up
    /// to this size (zstd's patch span is 128 MiB); a larger file is streamed as a whole file.
    static let patchLimit = 48 << 20
    /// A patch is kept only when it is at most this fraction of the file's bytes (a whole dump or index compresses
    /// to about a quarter): beyond, the file is stored whole and becomes the base of the next ones.
    static let patchShare = 8

    /// Stores everything `input` yields as a file node: a patch on the file `previous` is or patches when the
    /// repository allows patches and the patch is worth it, else the file whole. `previous` is the same file in the
    /// previous set, or nil.
    public func storeStream(_ input: FileHandle, patchingOn previous: Node?, name: String, mode: UInt32 = 0o600,
                            mtime: Date = Date()) async throws -> Node {
        guard let ids = patchBase(previous) else { return try await storeStream(input, name: name, mode: mode, mtime: mtime) }
        // The turn is taken before the file is read whole; a file over the limit gives it back and streams on.
        let turns = PatchTurns.shared
        await turns.begin()
        async let loaded = repository.joined(ids, limit: Self.patchLimit)
        var file = Data()
        do {
            while file.count <= Self.patchLimit, let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty {
                file.append(piece)
            }
        } catch {
            turns.end()
            throw error
        }
        // A base that cannot be read (damaged since the previous set) only costs the patch: the file is stored whole.
        guard file.count <= Self.patchLimit, let base = (try? await loaded) ?? nil else {
            turns.end()
            return try await storeStream(Self.rejoin(file, input), name: name, mode: mode, mtime: mtime)
        }
        defer { turns.end() }
        return try await store(file, patchingOn: base, ids: ids, name: name, mode: mode, mtime: mtime)
    }

    /// `storeStream(_:patchingOn:)` for a file built in memory.
    public func storeFile(_ file: Data, patchingOn previous: Node?, name: String, mode: UInt32 = 0o600,
                          mtime: Date = Date()) async throws -> Node {
        guard let ids = patchBase(previous), file.count <= Self.patchLimit else {
            return try await storeFile(file, name: name, mode: mode, mtime: mtime)
        }
        return try await PatchTurns.shared.run {
            guard let base = (try? await repository.joined(ids, limit: Self.patchLimit)) ?? nil else {
                return try await storeFile(file, name: name, mode: mode, mtime: mtime)
            }
            return try await store(file, patchingOn: base, ids: ids, name: name, mode: mode, mtime: mtime)
        }
    }

    /// The blobs a patch on `previous` would apply to (its base when it is a patch itself), if patches are allowed.
    private func patchBase(_ previous: Node?) -> [BlobID]? {
        guard repository.config.allowsPatches, let previous else { return nil }
        return previous.patchBase ?? previous.content
    }

    /// `file` as a patch on `base` (the blobs `ids`) when the patch is worth it: the compression stops as soon as it
    /// is not, and the file is stored whole.
    private func store(_ file: Data, patchingOn base: Data, ids: [BlobID], name: String, mode: UInt32, mtime: Date) async throws -> Node {
        guard let patch = try Zstd.compress(file, prefix: base, limit: file.count / Self.patchShare) else {
            return try await storeFile(file, name: name, mode: mode, mtime: mtime)
        }
        var node = try await storeFile(patch, name: name, mode: mode, mtime: mtime)
        node.size = Int64(file.count)
        node.patchBase = ids
        return node
    }

    /// A pipe that yields `head`, then the rest of `input`.
    static func rejoin(_ head: Data, _ input: FileHandle) -> FileHandle {
        let pipe = Pipe()
        Thread {
            defer { try? pipe.fileHandleForWriting.close() }
            do {
                try pipe.fileHandleForWriting.write(contentsOf: head)
                while let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty {
                    try pipe.fileHandleForWriting.write(contentsOf: piece)
                }
            } catch {
                // The reader is gone (the store failed and says why); the producer is stopped by its caller's cleanup.
            }
        }.start()
        return pipe.fileHandleForReading
    }
}
