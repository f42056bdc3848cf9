import Foundation
import Support
import Synchronization

/// One writing session: stores blobs into packs, then commits an index and a set (snapshot).
///
/// Write order is packs, then the index file naming them, then the snapshot, so a crash leaves nothing that
/// points at missing data. Safe to call from many tasks at once: hashing, compression and encryption run in
/// the caller's task; only appending to the open pack takes the lock. Full data packs are written in the
/// background (`PackUploads`); `flush` and therefore `writeIndex` wait for them.
public final class SetWriter: Sendable {
    public let repository: Repository
    /// Packs are closed at this size, or at `packBlobLimit` blobs: 16 MiB of 20-byte files are 300,000 blobs,
    /// whose entries, pending ids, header and index part, all copied while the pack is closed, cost over 100 MB.
    let packSize: Int
    static let packBlobLimit = 1 << 16
    /// An index file is written once this many bytes of entries wait (about 90,000 blobs at 4 MiB), so a
    /// session of a million blobs neither holds every entry until its commit nor writes one huge index file.
    let indexFileSize: Int
    private let state = Mutex(State())
    /// Full data packs on their way to the backend (tree packs are written in line: `tree(_:)` reads them back).
    private let uploads = PackUploads(depth: 0)

    private struct State {
        var dataPack = OpenPack()
        var treePack = OpenPack()
        /// Closed packs not yet in the repository's index: their blobs are read from here meanwhile.
        var landing: [OpenPack] = []
        /// Blobs stored in this session and not yet in the repository's index.
        var pending = Set<BlobID>()
        /// Entries of the packs this session wrote or adopted since its last index file, encoded as in one.
        var unwrittenIndex = Data()
        var statistics = WriteStatistics()
    }

    /// A pack being filled; once full, closed in place (`PackFormat.close`) and handed to `upload` whole.
    private struct OpenPack {
        var bytes = Data()
        var entries: [PackEntry] = []
        /// Position in `entries` by blob id, so a tree of this session is found before its pack lands.
        var positions: [BlobID: Int] = [:]
    }

    init(repository: Repository, packSize: Int, indexFileSize: Int) {
        self.repository = repository
        self.packSize = packSize
        self.indexFileSize = indexFileSize
    }

    /// What this session has done so far.
    public var statistics: WriteStatistics { state.withLock { $0.statistics } }

    /// Stores `plaintext` as a blob unless the repository already has it; returns its id.
    @discardableResult
    public func save(_ plaintext: Data, type: BlobType) async throws -> BlobID {
        let key = repository.key
        let id = key.blobID(plaintext)
        let isNew = state.withLock { state in
            state.statistics.blobs += 1
            state.statistics.bytes += Int64(plaintext.count)
            if state.pending.contains(id) || repository.contains(id) { return false }
            state.pending.insert(id)
            state.statistics.newBlobs += 1
            state.statistics.newBytes += Int64(plaintext.count)
            return true
        }
        guard isNew else { return id }
        let (bytes, compressed) = try BlobCompression.pack(plaintext)
        var entry = PackEntry(type: type, compressed: compressed, storedLength: UInt32(bytes.count + Sealing.overhead),
                              rawLength: UInt32(plaintext.count), offset: 0, id: id)
        let sealed = try key.seal(bytes, associatedData: entry.associatedData)
        let full: OpenPack? = try state.withLock { state in
            state.statistics.storedBytes += Int64(sealed.count)
            // Appended in place, into room reserved for a whole pack: a copy of the open pack, or its growth by
            // reallocation, would copy up to 16 MiB per blob.
            func add(to pack: inout OpenPack) throws -> OpenPack? {
                if pack.bytes.isEmpty { pack.bytes.reserveCapacity(packSize + sealed.count + Self.closingRoom) }
                entry.offset = UInt32(pack.bytes.count)
                pack.bytes.append(sealed)
                pack.positions[entry.id] = pack.entries.count
                pack.entries.append(entry)
                guard pack.bytes.count >= packSize || pack.entries.count >= Self.packBlobLimit else { return nil }
                return try close(&pack)
            }
            let full = type == .data ? try add(to: &state.dataPack) : try add(to: &state.treePack)
            if let full { state.landing.append(full) }
            return full
        }
        if let full {
            if type == .data { try await uploads.submit { try await self.upload(full) } } else { try await upload(full) }
        }
        return id
    }

    /// A tree stored by this session or already in the repository. Trees whose pack has not landed are read
    /// from memory, so indexing an item needs no pack of its own written first. Indexing reads each tree once, so
    /// trees read from the backend are not cached: a million files' trees would fill the cache for nothing.
    public func tree(_ id: BlobID) async throws -> Tree {
        let open: (stored: Data, entry: PackEntry)? = state.withLock { state in
            for pack in [state.treePack] + state.landing {
                guard let position = pack.positions[id] else { continue }
                let entry = pack.entries[position]
                let start = pack.bytes.startIndex + Int(entry.offset)
                return (pack.bytes.subdata(in: start..<(start + Int(entry.storedLength))), entry)
            }
            return nil
        }
        guard let open else { return try await repository.tree(id, caching: false) }
        let plain = try BlobCompression.unpack(try repository.key.open(open.stored, associatedData: open.entry.associatedData),
                                               compressed: open.entry.compressed, rawLength: Int(open.entry.rawLength))
        return try Tree(json: plain)
    }

    /// Closes `pack` where it lies (the only reference to its bytes) and returns it, leaving an empty pack.
    private func close(_ pack: inout OpenPack) throws -> OpenPack {
        var closed = OpenPack()
        swap(&closed, &pack)
        try PackFormat.close(&closed.bytes, entries: closed.entries, key: repository.key)
        return closed
    }

    /// Room reserved past a full pack's blobs for its sealed header and trailer (a pack of many small blobs,
    /// whose header is larger, grows once as it closes).
    private static let closingRoom = 64 << 10

    /// Uploads the packs still open and waits for every upload to land.
    public func flush() async throws {
        let open = try state.withLock { state in
            var open: [OpenPack] = []
            if !state.dataPack.entries.isEmpty { open.append(try close(&state.dataPack)) }
            if !state.treePack.entries.isEmpty { open.append(try close(&state.treePack)) }
            state.landing += open
            return open
        }
        for pack in open { try await uploads.submit { try await self.upload(pack) } }
        try await uploads.drain()
    }

    /// Stores a closed pack and indexes its blobs.
    private func upload(_ pack: OpenPack) async throws {
        let bytes = pack.bytes
        let id = BlobID.sha256(bytes)
        try await repository.backend.put(PackFormat.name(id), bytes)
        repository.index.withLock { $0.add(pack: id, entries: pack.entries) }
        let due = state.withLock { state in
            IndexFile.append(pack: id, entries: pack.entries, to: &state.unwrittenIndex)
            state.statistics.packs += 1
            for entry in pack.entries { state.pending.remove(entry.id) }
            state.landing.removeAll { $0.entries.first?.id == pack.entries.first?.id }
            return state.unwrittenIndex.count >= indexFileSize ? Self.takeIndex(&state) : nil
        }
        if let due { try await storeIndex(due) }
    }

    private static func takeIndex(_ state: inout State) -> Data {
        defer { state.unwrittenIndex = Data() }
        return state.unwrittenIndex
    }

    /// Index entries are written only after their packs are stored, so an index file never names a missing pack.
    private func storeIndex(_ entries: Data) async throws {
        try await repository.storeObject(entries, prefix: "index/", kind: "index", compressed: true)
    }

    /// Packs that landed without an index (a writer that crashed, or one still running) join this session:
    /// their blobs are reused and the next index file names them. Packs a prune condemned are not adopted
    /// (they are about to go); when a prune plan cannot be read, nothing is.
    func adoptUnindexedPacks() async throws {
        guard let condemned = try await repository.condemnedPacks() else { return }
        let objects = try await repository.backend.list(prefix: "data/")
        for object in objects {
            guard let id = PackFormat.id(object.name), !condemned.contains(id),
                  !repository.index.withLock({ $0.contains(pack: id) }) else { continue }
            // A pack that cannot be read is left for verify to report; it is never referenced.
            guard let entries = try? await PackFormat.readEntries(pack: object.name, size: object.size,
                                                                   backend: repository.backend, key: repository.key)
            else { continue }
            repository.index.withLock { $0.add(pack: id, entries: entries) }
            state.withLock { state in
                IndexFile.append(pack: id, entries: entries, to: &state.unwrittenIndex)
                state.statistics.adoptedPacks += 1
            }
        }
    }

    /// Uploads open packs and writes an index file naming every pack of this session not yet in one.
    public func writeIndex() async throws {
        try await flush()
        let entries = state.withLock { Self.takeIndex(&$0) }
        guard !entries.isEmpty else { return }
        try await storeIndex(entries)
    }

    /// Finishes the set: packs, then the index, then the snapshot. Returns the stored snapshot.
    public func commit(metadata: JSONValue, roots: [String: Snapshot.Root], time: Date = Date()) async throws -> StoredSnapshot {
        try await writeIndex()
        let snapshot = Snapshot(time: time, metadata: metadata, roots: roots)
        let id = try await repository.storeObject(JSONFormat.encoder().encode(snapshot), prefix: "snapshots/", kind: "snapshot")
        return StoredSnapshot(id: id, snapshot: snapshot)
    }
}

/// Counts of one writing session.
public struct WriteStatistics: Sendable, Codable, Equatable {
    /// Blobs and plaintext bytes offered, new or not.
    public var blobs = 0
    public var bytes: Int64 = 0
    /// Blobs and plaintext bytes not already in the repository.
    public var newBlobs = 0
    public var newBytes: Int64 = 0
    /// Bytes written into packs (compressed, encrypted).
    public var storedBytes: Int64 = 0
    public var packs = 0
    /// Packs found without an index and reused.
    public var adoptedPacks = 0
}

extension Repository {
    /// Starts a writing session; packs an interrupted writer left behind are adopted first.
    public func beginSet(packSize: Int = 16 << 20, indexFileSize: Int = 4 << 20) async throws -> SetWriter {
        try await refreshIndex()
        let writer = SetWriter(repository: self, packSize: packSize, indexFileSize: indexFileSize)
        try await writer.adoptUnindexedPacks()
        return writer
    }
}
