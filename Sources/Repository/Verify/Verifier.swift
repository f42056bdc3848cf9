import Foundation
import Support

/// What verify found.
public struct VerifyReport: Sendable, Codable, Equatable {
    public var snapshots = 0
    public var indexFiles = 0
    public var packs = 0
    /// Packs no index names (left by an interrupted writer; the next writer adopts them). Not a problem.
    public var unindexedPacks = 0
    /// Packs a prune condemned (out of the index, deleted by a later prune). Not a problem either.
    public var condemnedPacks = 0
    public var blobs = 0
    /// Packs whose data was read and authenticated in this run.
    public var packsRead = 0
    /// With `--read-data=P`: which of how many rotating subsets this run read.
    public var subset: Subset?
    /// With `--read-data`: for each snapshot (hex id), when every pack it uses had last been read back (by this
    /// run and the earlier runs of the rotation); a snapshot with a pack never read yet is absent.
    public var readBack: [String: Date]?
    public var problems: [Problem] = []

    public struct Subset: Sendable, Codable, Equatable {
        public var bucket: Int
        public var of: Int
    }

    /// One damaged or missing object, and everything it affects.
    public struct Problem: Sendable, Codable, Equatable {
        /// `blob <id>`, `pack <id>`, `index/<id>`, `snapshots/<id>`.
        public var object: String
        public var detail: String
        /// `<set id>:<item>/<path>` of every file or directory that uses the damaged object.
        public var affects: [String] = []
    }

    public var isClean: Bool { problems.isEmpty }
}

/// Checks a repository: structure always; with `readData`, re-reads and authenticates blob contents.
public struct Verifier: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// `readPercent` nil checks structure only; 100 reads every pack; P < 100 reads the next of ceil(100/P)
    /// rotating subsets, recorded in the repository so successive runs cover everything.
    public func verify(readPercent: Int? = nil) async throws -> VerifyReport {
        var report = VerifyReport()
        var damaged: [BlobID: String] = [:] // blob -> what is wrong
        let backend = repository.backend

        // Index files: each must be intact; loading skips damaged ones, so whatever is left unloaded is damaged.
        try await repository.refreshIndex()
        let indexObjects = try await backend.list(prefix: "index/")
        report.indexFiles = indexObjects.count
        for object in indexObjects where !repository.indexFiles.contains(object.name) {
            report.problems.append(.init(object: object.name, detail: "does not match its name or does not authenticate"))
        }

        // Every indexed blob must be listed in its pack's header, at the same place.
        let packObjects = Dictionary(try await backend.list(prefix: "data/").map { ($0.name, $0.size) },
                                     uniquingKeysWith: { first, _ in first })
        let indexed = repository.index.withLock { $0.entriesByPack() }
        report.packs = indexed.count
        let condemned = try await repository.condemnedPacks() ?? []
        let unindexed = packObjects.keys.compactMap(PackFormat.id)
            .filter { indexed[$0] == nil }
        report.condemnedPacks = unindexed.filter(condemned.contains).count
        report.unindexedPacks = unindexed.count - report.condemnedPacks
        report.blobs = repository.blobCount
        for (pack, entries) in indexed {
            let name = PackFormat.name(pack)
            guard let size = packObjects[name] else {
                report.problems.append(.init(object: "pack \(pack.hex)", detail: "missing from \(backend.location)"))
                for entry in entries { damaged[entry.id] = "its pack \(pack.short) is missing" }
                continue
            }
            do {
                let header = try await PackFormat.readEntries(pack: name, size: size, backend: backend, key: repository.key)
                let listed = Set(header.map { "\($0.id.hex):\($0.offset):\($0.storedLength)" })
                for entry in entries where !listed.contains("\(entry.id.hex):\(entry.offset):\(entry.storedLength)") {
                    damaged[entry.id] = "not where the index says in pack \(pack.short)"
                }
            } catch {
                report.problems.append(.init(object: "pack \(pack.hex)", detail: "header does not authenticate"))
                for entry in entries { damaged[entry.id] = "its pack \(pack.short) has a damaged header" }
            }
        }

        // Data: read whole packs (all, or the next rotating subset) and authenticate every blob.
        if let readPercent {
            let buckets = readPercent >= 100 ? 1 : Int((100 + readPercent - 1) / max(readPercent, 1))
            let bucket = buckets == 1 ? 0 : try await nextBucket(of: buckets)
            if buckets > 1 { report.subset = .init(bucket: bucket, of: buckets) }
            for (pack, entries) in indexed where Int(pack.prefix32 % UInt32(buckets)) == bucket {
                let name = PackFormat.name(pack)
                guard packObjects[name] != nil else { continue }
                report.packsRead += 1
                let bytes: Data
                do { bytes = try await backend.get(name) } catch {
                    for entry in entries { damaged[entry.id] = "pack \(pack.short) cannot be read: \(error)" }
                    continue
                }
                if BlobID.sha256(bytes) != pack {
                    report.problems.append(.init(object: "pack \(pack.hex)", detail: "content does not match its name"))
                }
                for entry in entries {
                    let range = Int(entry.offset)..<Int(entry.offset + entry.storedLength)
                    guard range.upperBound <= bytes.count else {
                        damaged[entry.id] = "pack \(pack.short) is truncated"
                        continue
                    }
                    let location = repository.index.withLock { $0.location(entry.id) }!
                    do {
                        _ = try repository.decodeBlob(bytes.subdata(in: range), id: entry.id, location: location, pack: pack)
                    } catch {
                        damaged[entry.id] = "does not authenticate in pack \(pack.short)"
                    }
                }
            }
            let now = Date()
            if buckets > 1 {
                let marker = try JSONFormat.encoder().encode(VerifyMarker(time: now, bucket: bucket, of: buckets))
                try await repository.storeObject(marker, prefix: "verify/", kind: "verify")
            }
            report.readBack = try await readBack(buckets: buckets, read: bucket, at: now)
        }

        // Sets: every tree and data blob they reach must be indexed; name what each damaged blob affects. A set
        // that landed on blobs a prune had just condemned (its writer read the index before) is whole: the next
        // prune keeps and re-indexes that pack, so condemned packs that still exist count too.
        let sets = condemned.isEmpty ? self : Verifier(repository: try await repository.including(packs: packObjects.filter { name, _ in
            PackFormat.id(name).map(condemned.contains) ?? false
        }))
        var affects: [BlobID: [String]] = [:]
        var missing: Set<BlobID> = []
        var seenTrees: Set<BlobID> = []
        let snapshotObjects = try await backend.list(prefix: "snapshots/")
        report.snapshots = snapshotObjects.count
        for object in snapshotObjects {
            let snapshot: Snapshot
            let id = String(object.name.dropFirst("snapshots/".count))
            do {
                snapshot = try JSONFormat.decoder().decode(Snapshot.self,
                                                           from: try await repository.loadObject(object.name, kind: "snapshot"))
            } catch {
                report.problems.append(.init(object: object.name, detail: "\(error)"))
                continue
            }
            for (item, root) in snapshot.roots.sorted(by: { $0.key < $1.key }) {
                let prefix = "\(id.prefix(8)):\(item)"
                switch root {
                case let .file(node):
                    sets.check(node, path: prefix, damaged: damaged, affects: &affects, missing: &missing)
                case let .tree(tree):
                    await sets.checkTree(tree, path: prefix, damaged: &damaged, affects: &affects, missing: &missing,
                                    seen: &seenTrees)
                }
            }
        }
        for id in missing where damaged[id] == nil { damaged[id] = "missing from the index" }
        for (id, detail) in damaged.sorted(by: { $0.key < $1.key }) {
            report.problems.append(.init(object: "blob \(id.hex)", detail: detail, affects: affects[id] ?? []))
        }
        // A set with damaged data was not read back whole, whatever the rotation says.
        let damagedSets = Set(report.problems.flatMap(\.affects).map { String($0.prefix(8)) })
        report.readBack = report.readBack?.filter { !damagedSets.contains(String($0.key.prefix(8))) }
        return report
    }

    private func check(_ node: Node, path: String, damaged: [BlobID: String],
                       affects: inout [BlobID: [String]], missing: inout Set<BlobID>) {
        for id in Set(node.dataBlobs) {
            if !repository.contains(id) { missing.insert(id) }
            if damaged[id] != nil || !repository.contains(id) { affects[id, default: []].append(path) }
        }
    }

    /// Walks a tree. A tree seen before (in this or another set) is walked again only when something
    /// damaged lies below it, so that every affected path gets named.
    private func checkTree(_ id: BlobID, path: String, damaged: inout [BlobID: String],
                           affects: inout [BlobID: [String]], missing: inout Set<BlobID>,
                           seen: inout Set<BlobID>) async {
        guard repository.contains(id), damaged[id] == nil else {
            if !repository.contains(id) { missing.insert(id) }
            affects[id, default: []].append(path + "/")
            return
        }
        let firstVisit = seen.insert(id).inserted
        if !firstVisit && damaged.isEmpty && missing.isEmpty { return }
        let tree: Tree
        do { tree = try await repository.tree(id) } catch {
            damaged[id] = "tree does not authenticate"
            affects[id, default: []].append(path + "/")
            return
        }
        for node in tree.nodes {
            let nodePath = "\(path)/\(node.name)"
            check(node, path: nodePath, damaged: damaged, affects: &affects, missing: &missing)
            if let subtree = node.subtree {
                await checkTree(subtree, path: nodePath, damaged: &damaged, affects: &affects, missing: &missing, seen: &seen)
            }
        }
    }

    /// The subset after the one the latest `verify/` marker with the same subset count records.
    private func nextBucket(of buckets: Int) async throws -> Int {
        let latest = try await markers(of: buckets).max { $0.time < $1.time }
        return latest.map { ($0.bucket + 1) % buckets } ?? 0
    }

    /// The `verify/` markers of runs that split the packs into `buckets` subsets.
    func markers(of buckets: Int) async throws -> [VerifyMarker] {
        var out: [VerifyMarker] = []
        for object in try await repository.backend.list(prefix: "verify/") {
            guard let plain = try? await repository.loadObject(object.name, kind: "verify"),
                  let marker = try? JSONFormat.decoder().decode(VerifyMarker.self, from: plain),
                  marker.of == buckets else { continue }
            out.append(marker)
        }
        return out
    }
}

/// A `--read-data=P` run: which subset it read.
struct VerifyMarker: Codable {
    var time: Date
    var bucket: Int
    var of: Int
}
