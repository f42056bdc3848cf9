import Foundation
import Support

/// How prune treats packs.
public struct PruneOptions: Sendable, Equatable {
    /// Packs younger than this (by the storage's clock) are left alone, and condemned packs are deleted only
    /// by a run at least this much later: it must be longer than any backup. Zero condemns and deletes in one
    /// run, which is safe only while nothing else writes to the repository.
    public var grace: TimeInterval
    /// A pack whose unused share of bytes is above this fraction (0...1) has its used blobs copied into new
    /// packs and is condemned.
    public var repackThreshold: Double

    public static let defaultGrace: TimeInterval = 12 * 3600
    public static let defaultRepackThreshold = 0.2

    public init(grace: TimeInterval = defaultGrace, repackThreshold: Double = defaultRepackThreshold) {
        self.grace = grace
        self.repackThreshold = repackThreshold
    }
}

/// What a prune run did.
public struct PruneReport: Sendable, Codable, Equatable {
    public var snapshots = 0
    /// Packs in the repository when the run began, and their bytes.
    public var packs = 0
    public var packBytes: Int64 = 0
    /// Blobs some set uses.
    public var usedBlobs = 0
    /// Packs deleted by this run (condemned at least the grace period ago and still unneeded), and their bytes.
    public var deletedPacks = 0
    public var reclaimedBytes: Int64 = 0
    /// Packs this run condemned (nothing in them used, or repacked), and their bytes: deleted by the first run
    /// after the grace period.
    public var condemnedPacks = 0
    public var pendingBytes: Int64 = 0
    /// Packs whose used blobs were copied into new packs; blobs and bytes copied.
    public var repackedPacks = 0
    public var repackedBlobs = 0
    public var repackedBytes: Int64 = 0
    /// New packs written by repacking.
    public var writtenPacks = 0
    /// Condemned packs kept because a set that landed after they were condemned uses them.
    public var rescuedPacks = 0
    /// Packs younger than the grace period, left as they are (a backup may be writing them).
    public var youngPacks = 0
    public var indexFilesWritten = 0
    public var indexFilesRemoved = 0
    public var seconds = 0.0

    mutating func add(_ other: PruneReport) {
        deletedPacks += other.deletedPacks
        reclaimedBytes += other.reclaimedBytes
        rescuedPacks += other.rescuedPacks
        indexFilesWritten += other.indexFilesWritten
        indexFilesRemoved += other.indexFilesRemoved
        condemnedPacks = other.condemnedPacks
        pendingBytes = other.pendingBytes
    }
}

/// Mark and sweep of packs no set needs, safe beside running writers (docs/repository-format.md, Prune):
/// condemned packs leave the index at once and are deleted by a later run, after the grace period, unless a
/// set that landed meanwhile uses them.
public struct Pruner: Sendable {
    public let repository: Repository
    public let options: PruneOptions

    public init(repository: Repository, options: PruneOptions = PruneOptions()) {
        self.repository = repository
        self.options = options
    }

    public func prune(now: Date = Date()) async throws -> PruneReport {
        let started = Date()
        var report = try await run(now: now)
        // With no grace the plan just written is due at once: finish it in the same call.
        if options.grace == 0 && report.condemnedPacks > 0 {
            report.add(try await run(now: .distantFuture))
        }
        try await repository.reloadIndex()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// One run: finish the plans that are due, then condemn and repack, then write one index for the rest.
    private func run(now: Date) async throws -> PruneReport {
        var report = PruneReport()
        let backend = repository.backend
        let location = backend.location

        // Every index file must load: a damaged one hides which blobs its packs hold.
        let indexObjects = try await backend.list(prefix: "index/")
        var indexed: [BlobID: [BlobID: PackEntry]] = [:]
        for object in indexObjects {
            let packs: [(id: BlobID, entries: [PackEntry])]
            do {
                packs = try IndexFile.decode(try await repository.loadObject(object.name, kind: "index", compressed: true))
            } catch let error as BackendError {
                throw error
            } catch {
                throw OperatorError.failed("\(location): \(object.name) is damaged, so prune cannot tell which data is in use; nothing was removed",
                                           remedy: "run `valkyrie verify` to see what it affects; prune again once verify is clean")
            }
            for pack in packs {
                for entry in pack.entries { indexed[pack.id, default: [:]][entry.id] = entry }
            }
        }
        let packObjects = Dictionary(try await backend.list(prefix: "data/").compactMap { object in
            PackFormat.id(object.name).map { ($0, object) }
        }, uniquingKeysWith: { first, _ in first })
        report.packs = packObjects.count
        report.packBytes = packObjects.values.reduce(0) { $0 + Int64($1.size) }

        let plans = try await planned()
        let due = plans.filter { now.timeIntervalSince($0.landed) >= options.grace }
        let duePacks = Set(due.flatMap { $0.plan.packs.map(\.id) })
        let pendingPacks = Set(plans.flatMap { $0.plan.packs.map(\.id) }).subtracting(duePacks)

        for (pack, _) in indexed where packObjects[pack] == nil && !duePacks.contains(pack) && !pendingPacks.contains(pack) {
            throw OperatorError.failed("\(location): the index names pack \(pack.short), which is missing; nothing was removed",
                                       remedy: "run `valkyrie verify` to see which sets it affects")
        }

        // Where every blob can be read from: indexed packs, then planned packs (a set may have landed using them).
        var sources: [BlobID: (pack: BlobID, entry: PackEntry)] = [:]
        var plannedEntries: [BlobID: [PackEntry]] = [:]
        for pack in duePacks.union(pendingPacks) {
            guard let object = packObjects[pack] else { continue }
            plannedEntries[pack] = (try? await PackFormat.readEntries(pack: object.name, size: object.size,
                                                                        backend: backend, key: repository.key)) ?? []
        }
        for (pack, entries) in indexed where packObjects[pack] != nil {
            for entry in entries.values where sources[entry.id] == nil { sources[entry.id] = (pack, entry) }
        }
        for (pack, entries) in plannedEntries {
            for entry in entries where sources[entry.id] == nil { sources[entry.id] = (pack, entry) }
        }

        // Mark: every blob reachable from every set in the repository, whichever host wrote it.
        let snapshots = try await backend.list(prefix: "snapshots/")
        report.snapshots = snapshots.count
        var used = Set<BlobID>()
        var trees: [BlobID] = []
        for object in snapshots {
            let snapshot: Snapshot
            do {
                snapshot = try JSONFormat.decoder().decode(Snapshot.self, from: try await repository.loadObject(object.name, kind: "snapshot"))
            } catch let error as BackendError {
                throw error
            } catch {
                throw OperatorError.failed("\(location): \(object.name) is damaged, so prune cannot tell which data it uses; nothing was removed",
                                           remedy: "run `valkyrie verify` to see what it affects")
            }
            for root in snapshot.roots.values {
                switch root {
                case let .tree(id): trees.append(id)
                case let .file(node): used.formUnion(node.dataBlobs)
                }
            }
        }
        while let tree = trees.popLast() {
            guard used.insert(tree).inserted else { continue }
            for node in try await readTree(tree, sources: sources) {
                used.formUnion(node.dataBlobs)
                if let subtree = node.subtree { trees.append(subtree) }
            }
        }
        report.usedBlobs = used.count

        // Due plans: a condemned pack goes unless it holds a used blob that no live pack has.
        var live = indexed.filter { packObjects[$0.key] != nil && !duePacks.contains($0.key) && !pendingPacks.contains($0.key) }
        var available = Set(live.values.flatMap(\.keys))
        var deletions: [BlobID] = []
        var rescued = false
        for pack in duePacks.sorted() where packObjects[pack] != nil {
            let entries = plannedEntries[pack] ?? []
            if entries.contains(where: { used.contains($0.id) && !available.contains($0.id) }) {
                live[pack] = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                available.formUnion(entries.map(\.id))
                report.rescuedPacks += 1
                rescued = true
            } else {
                deletions.append(pack)
            }
        }

        // Condemn what no set uses, repack what is mostly unused; young packs are left alone.
        let young = { (pack: BlobID) in now.timeIntervalSince(packObjects[pack]?.modified ?? now) < options.grace }
        var condemned: [BlobID] = []
        var repack: [BlobID] = []
        for (pack, entries) in live.sorted(by: { $0.key < $1.key }) {
            if young(pack) { report.youngPacks += 1; continue }
            // Shares of the blobs' bytes: the header is not counted, or a pack of one small tree would never do.
            let total = entries.values.reduce(0) { $0 + Int($1.storedLength) }
            let usedBytes = entries.values.filter { used.contains($0.id) }.reduce(0) { $0 + Int($1.storedLength) }
            if usedBytes == 0 {
                condemned.append(pack)
            } else if Double(total - usedBytes) / Double(max(total, 1)) > options.repackThreshold {
                repack.append(pack)
            }
        }
        // Packs no index names: a writer that crashed (old) or one still writing (young).
        let orphans = packObjects.keys.filter { indexed[$0] == nil && !duePacks.contains($0) && !pendingPacks.contains($0) }
        for pack in orphans.sorted() {
            if young(pack) { report.youngPacks += 1 } else { condemned.append(pack) }
        }

        var kept = live
        for pack in condemned + repack { kept[pack] = nil }
        var keptBlobs = Set(kept.values.flatMap(\.keys))
        var writer = PackBuilder(repository: repository)
        for pack in repack {
            guard let object = packObjects[pack], let entries = live[pack] else { continue }
            let bytes = try await backend.get(object.name)
            for entry in entries.values.sorted(by: { $0.offset < $1.offset }) where used.contains(entry.id) && !keptBlobs.contains(entry.id) {
                let range = Int(entry.offset)..<Int(entry.offset + entry.storedLength)
                guard range.upperBound <= bytes.count else { throw damaged(entry.id, pack) }
                let stored = bytes.subdata(in: range)
                let location = BlobLocation(pack: 0, offset: entry.offset, storedLength: entry.storedLength,
                                            rawLength: entry.rawLength, type: entry.type, compressed: entry.compressed)
                guard (try? repository.decodeBlob(stored, id: entry.id, location: location, pack: pack)) != nil else {
                    throw damaged(entry.id, pack)
                }
                try await writer.add(stored, entry: entry)
                keptBlobs.insert(entry.id)
                report.repackedBlobs += 1
            }
            condemned.append(pack)
            report.repackedPacks += 1
        }
        let newPacks = try await writer.finish()
        report.repackedBytes = newPacks.reduce(0) { $0 + Int64($1.size) }
        report.writtenPacks = newPacks.count
        for pack in newPacks { kept[pack.id] = Dictionary(pack.entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }) }

        report.condemnedPacks = condemned.count
        report.pendingBytes = condemned.reduce(0) { $0 + Int64(packObjects[$1]?.size ?? 0) }
        // A local folder also holds the temp files of writers killed mid-write; S3 has no such leftovers.
        if let local = backend as? LocalBackend {
            report.reclaimedBytes += local.removeStaleTemporaries(olderThan: now.addingTimeInterval(-options.grace))
        }
        guard !condemned.isEmpty || !deletions.isEmpty || rescued || !due.isEmpty else { return report }

        // The plan lands before the index that leaves its packs out, so no writer adopts them in between;
        // the new index lands before the old ones go, and both before any pack is deleted.
        if !condemned.isEmpty {
            let plan = PrunePlan(created: now, packs: condemned.map { .init(id: $0, size: packObjects[$0]?.size ?? 0) })
            try await repository.storeObject(try JSONFormat.encoder().encode(plan), prefix: "prune/", kind: "prune")
        }
        let index = kept.sorted { $0.key < $1.key }.map { (id: $0.key, entries: $0.value.values.sorted { $0.offset < $1.offset }) }
        if !index.isEmpty {
            try await repository.storeObject(IndexFile.encode(index), prefix: "index/", kind: "index", compressed: true)
            report.indexFilesWritten = 1
        }
        for object in indexObjects { try await backend.delete(object.name) }
        report.indexFilesRemoved = indexObjects.count
        for pack in deletions {
            try await backend.delete(PackFormat.name(pack))
            report.deletedPacks += 1
            report.reclaimedBytes += Int64(packObjects[pack]?.size ?? 0)
        }
        for plan in due { try await backend.delete(plan.name) }
        return report
    }

    private func planned() async throws -> [StoredPrunePlan] {
        do {
            return try await repository.prunePlans()
        } catch let error as BackendError {
            throw error
        } catch {
            throw OperatorError.failed("\(repository.backend.location): a prune plan (prune/) is damaged; nothing was removed",
                                       remedy: "run `valkyrie verify`; remove the damaged prune/ object to start the plan over")
        }
    }

    /// A tree, read from wherever a copy of it is (an index may no longer name the pack a late set uses).
    private func readTree(_ id: BlobID, sources: [BlobID: (pack: BlobID, entry: PackEntry)]) async throws -> [Node] {
        guard let (pack, entry) = sources[id] else {
            throw OperatorError.failed("\(repository.backend.location): tree \(id.short) that a set uses is in no pack; nothing was removed",
                                       remedy: "run `valkyrie verify` to see which sets it affects")
        }
        let stored = try await repository.backend.get(PackFormat.name(pack), offset: Int(entry.offset), length: Int(entry.storedLength))
        let location = BlobLocation(pack: 0, offset: entry.offset, storedLength: entry.storedLength,
                                    rawLength: entry.rawLength, type: entry.type, compressed: entry.compressed)
        do {
            let plain = try repository.decodeBlob(stored, id: id, location: location, pack: pack)
            return try Tree(json: plain).nodes
        } catch {
            throw damaged(id, pack)
        }
    }

    private func damaged(_ blob: BlobID, _ pack: BlobID) -> OperatorError {
        OperatorError.failed("\(repository.backend.location): blob \(blob.short) in pack \(pack.short) is damaged; nothing was removed",
                             remedy: "run `valkyrie verify --read-data` to see which sets and files it affects")
    }
}

/// Builds packs from already sealed blobs (their ciphertext does not depend on their offset, so a blob is
/// copied as it is) and uploads each when full.
private struct PackBuilder {
    let repository: Repository
    var open: [BlobType: (bytes: Data, entries: [PackEntry])] = [:]
    var written: [(id: BlobID, size: Int, entries: [PackEntry])] = []
    let packSize = 16 << 20

    init(repository: Repository) { self.repository = repository }

    mutating func add(_ stored: Data, entry: PackEntry) async throws {
        var pack = open[entry.type] ?? (Data(), [])
        var moved = entry
        moved.offset = UInt32(pack.bytes.count)
        pack.bytes.append(stored)
        pack.entries.append(moved)
        if pack.bytes.count >= packSize {
            try await upload(pack)
            open[entry.type] = nil
        } else {
            open[entry.type] = pack
        }
    }

    mutating func finish() async throws -> [(id: BlobID, size: Int, entries: [PackEntry])] {
        for pack in open.values where !pack.entries.isEmpty { try await upload(pack) }
        open = [:]
        return written
    }

    private mutating func upload(_ pack: (bytes: Data, entries: [PackEntry])) async throws {
        let bytes = try PackFormat.finish(blobs: pack.bytes, entries: pack.entries, key: repository.key)
        let id = BlobID.sha256(bytes)
        try await repository.backend.put(PackFormat.name(id), bytes)
        written.append((id, bytes.count, pack.entries))
    }
}
