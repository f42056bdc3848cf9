import Foundation
import Support

extension Verifier {
    /// For each snapshot, when all of its packs had last been read back: the oldest last-read time of the
    /// subsets its packs fall in. `read` is the subset this run read, at `now` (every pack when `buckets` is 1).
    func readBack(buckets: Int, read: Int, at now: Date) async throws -> [String: Date] {
        var lastRead: [Int: Date] = [read: now]
        if buckets > 1 {
            for marker in try await markers(of: buckets) where marker.bucket != read {
                lastRead[marker.bucket] = max(lastRead[marker.bucket] ?? marker.time, marker.time)
            }
        }
        var memo: [BlobID: Set<Int>] = [:]
        var out: [String: Date] = [:]
        for stored in try await repository.snapshots() {
            var used = Set<Int>()
            for root in stored.snapshot.roots.values {
                switch root {
                case let .tree(id): used.formUnion(try await subsets(ofTree: id, buckets: buckets, memo: &memo))
                case let .file(node): used.formUnion(subsets(of: node.dataBlobs, buckets: buckets))
                }
            }
            let times = used.map { lastRead[$0] }
            if times.allSatisfy({ $0 != nil }) { out[stored.id.hex] = times.compactMap { $0 }.min() ?? now }
        }
        return out
    }

    /// The subsets holding the packs of these blobs; a blob not in the index counts as never read (-1).
    private func subsets(of blobs: [BlobID], buckets: Int) -> Set<Int> {
        repository.index.withLock { index in
            Set(blobs.map { id in index.location(id).map { Int(index.pack($0.pack).prefix32 % UInt32(buckets)) } ?? -1 })
        }
    }

    private func subsets(ofTree id: BlobID, buckets: Int, memo: inout [BlobID: Set<Int>]) async throws -> Set<Int> {
        if let known = memo[id] { return known }
        var out = subsets(of: [id], buckets: buckets)
        if !out.contains(-1), let tree = try? await repository.tree(id) {
            for node in tree.nodes {
                out.formUnion(subsets(of: node.dataBlobs, buckets: buckets))
                if let subtree = node.subtree { out.formUnion(try await subsets(ofTree: subtree, buckets: buckets, memo: &memo)) }
            }
        } else {
            out.insert(-1)
        }
        memo[id] = out
        return out
    }
}
