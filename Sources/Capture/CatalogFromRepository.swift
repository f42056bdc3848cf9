import Catalog
import Foundation
import Repository
import Support

/// `valkyrie catalog rebuild --from-repository`: fills an empty catalog from the chains kept in the repository
/// (ChainMirror), then derives the file and vault index from each set's contents, as the backup did.
public enum CatalogFromRepository {
    /// What the rebuild did.
    public struct Report: Codable, Sendable {
        /// The chain the catalog continues, and its host.
        public var chain: String
        public var host: String
        public var events: Int
        /// Other hosts' chains copied in beside it.
        public var peers: [RepositoryChainHead]
        public var rebuild: RebuildReport
        public var indexedSets: Int
    }

    /// Rebuilds into `catalog`, which must be empty. `select` names the chain to continue (its id or its
    /// host); without it, the chain of `catalog.origin.host`, or the only chain there is.
    public static func rebuild(into catalog: Catalog, from repository: Repository, select: String?) async throws -> Report {
        var heads: [RepositoryChainHead] = []
        for chain in try await repository.chainIDs() {
            if let head = try await repository.chainHead(chain) { heads.append(head) }
        }
        let own = try choose(select ?? catalog.origin.host, explicit: select != nil, from: heads, location: repository.backend.location)
        let copy = try await ChainMirror.read(own.chain, from: repository)
        var peers: [[ChainEvent]] = []
        for head in heads where head.chain != own.chain {
            peers.append(try await ChainMirror.read(head.chain, from: repository).events)
        }
        try catalog.importChains(own: copy.events, peers: peers)
        try catalog.confirm(own.seq, in: repository.config.id)
        let indexed = try await index(catalog, from: repository)
        return Report(chain: own.chain, host: own.host, events: copy.events.count, peers: heads.filter { $0.chain != own.chain },
                      rebuild: try catalog.rebuild(), indexedSets: indexed)
    }

    private static func choose(_ wanted: String, explicit: Bool, from heads: [RepositoryChainHead], location: String) throws -> RepositoryChainHead {
        let listing = heads.map { "\($0.chain) (\($0.host), \($0.seq) events)" }.joined(separator: ", ")
        guard !heads.isEmpty else {
            throw OperatorError.badInput("\(location) holds no catalog chain", remedy: "check --repo: a repository gets its chain from the first command that records")
        }
        let matches = heads.filter { $0.chain == wanted.lowercased() || $0.host == wanted }
        if matches.count == 1 { return matches[0] }
        if !explicit && matches.isEmpty && heads.count == 1 { return heads[0] }
        throw OperatorError.badInput(matches.isEmpty ? "\(location) has no chain of \(wanted); it holds \(listing)"
                                                     : "\(location) holds several chains of \(wanted): \(listing)",
                                     remedy: "choose one with --chain ID")
    }

    /// Derives the file and vault index of every listed set, host by host in ordinal order, from its trees.
    private static func index(_ catalog: Catalog, from repository: Repository) async throws -> Int {
        var snapshots: [UUID: Snapshot] = [:]
        for stored in try await repository.snapshots() {
            if let metadata = try? stored.snapshot.metadata.decode(as: SnapshotMetadata.self) { snapshots[metadata.set] = stored.snapshot }
        }
        let sets = try catalog.sets().sorted { ($0.host, $0.ordinal) < ($1.host, $1.ordinal) }
        for set in sets {
            guard let snapshot = snapshots[set.id] else {
                throw OperatorError.failed("set \(set.name) is in the catalog's chain but its snapshot is not in \(repository.backend.location)",
                                           remedy: "run `valkyrie verify`; the set's data is gone from the repository")
            }
            try catalog.index(set, from: try await contents(of: set, snapshot: snapshot, catalog: catalog, repository: repository))
        }
        return sets.count
    }

    /// The set's index entries, made the way the backup made them: items in capture order, then the vault index.
    private static func contents(of set: SetRecord, snapshot: Snapshot, catalog: Catalog, repository: Repository) async throws -> SetIndex {
        var index = SetIndex()
        for item in try catalog.details(of: set).items {
            guard let root = snapshot.roots[item.item] else {
                throw OperatorError.failed("set \(set.name): item \(item.item) is not in its snapshot", remedy: "run `valkyrie verify`")
            }
            try await index.add(CapturedItem(root: item.item, value: root, files: item.files, bytes: item.size, started: item.capturedAt),
                                repository: repository)
        }
        if case let .file(node)? = snapshot.roots[SetLayout.vaultIndex] {
            var data = Data()
            for id in node.content ?? [] { data.append(try await repository.blob(id)) }
            let lines = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
                try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data($0.utf8))
            }
            try index.addVaultIndex(lines)
        }
        return index
    }
}
