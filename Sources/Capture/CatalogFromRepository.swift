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
        /// The hosts it speaks for (that recorded its events, whose sets it started).
        public var hosts: [String]
        /// Other hosts' chains copied in beside it.
        public var peers: [Peer]
        public var rebuild: RebuildReport
        public var indexedSets: Int
    }

    public struct Peer: Codable, Sendable {
        public var chain: String
        public var hosts: [String]
        public var seq: Int64
    }

    /// Rebuilds into `catalog`, which must be empty. `select` names the chain to continue (its id or its
    /// host); without it, the chain of `catalog.origin.host`, or the only chain there is.
    public static func rebuild(into catalog: Catalog, from repository: Repository, select: String?) async throws -> Report {
        var chains: [Chain] = []
        for id in try await repository.chainIDs() {
            let copy = try await ChainMirror.read(id, from: repository)
            guard let head = copy.head else { continue }
            chains.append(Chain(head: head, events: copy.events))
        }
        let own = try choose(select ?? catalog.origin.host, explicit: select != nil, from: chains, location: repository.backend.location)
        let peers = chains.filter { $0.head.chain != own.head.chain }
        try catalog.importChains(own: own.events, peers: peers.map(\.events))
        try catalog.confirm(own.head.seq, in: repository.config.id)
        let indexed = try await index(catalog, from: repository)
        return Report(chain: own.head.chain, host: own.head.host, events: own.events.count, hosts: own.hosts.sorted(),
                      peers: peers.map { Peer(chain: $0.head.chain, hosts: $0.hosts.sorted(), seq: $0.head.seq) },
                      rebuild: try catalog.rebuild(), indexedSets: indexed)
    }

    /// A chain read back, with the hosts it speaks for: the hosts that recorded its events and whose sets it started.
    struct Chain {
        var head: RepositoryChainHead
        var events: [ChainEvent]

        var hosts: Set<String> {
            Set(events.map(\.host)).union(events.compactMap { event in
                guard event.type == BackupStarted.type.rawValue else { return nil }
                return try? JSONFormat.decoder().decode(BackupStarted.self, from: Data(event.payload.utf8)).host
            })
        }
    }

    private static func choose(_ wanted: String, explicit: Bool, from chains: [Chain], location: String) throws -> Chain {
        let listing = chains.map { "\($0.head.chain) (\($0.hosts.sorted().joined(separator: ", ")), \($0.head.seq) events)" }
            .joined(separator: "; ")
        guard !chains.isEmpty else {
            throw OperatorError.badInput("\(location) holds no catalog chain",
                                         remedy: "check --repo: a repository gets a catalog's chain from the first command that records")
        }
        let byID = chains.filter { $0.head.chain == wanted.lowercased() }
        let matches = byID.isEmpty ? chains.filter { $0.hosts.contains(wanted) } : byID
        if matches.count == 1 { return matches[0] }
        if !explicit && matches.isEmpty && chains.count == 1 { return chains[0] }
        throw OperatorError.badInput(matches.isEmpty ? "\(location) has no chain of \(wanted); it holds \(listing)"
                                                     : "\(location) holds several chains of \(wanted): \(listing)",
                                     remedy: "choose one with --chain ID or --chain HOST")
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
    /// `forget` uses it too, to move rows off a forgotten set's snapshot.
    public static func contents(of set: SetRecord, snapshot: Snapshot, catalog: Catalog, repository: Repository) async throws -> SetIndex {
        var index = try SetIndex()
        for item in try catalog.details(of: set).items {
            guard let root = snapshot.roots[item.item] else {
                throw OperatorError.failed("set \(set.name): item \(item.item) is not in its snapshot", remedy: "run `valkyrie verify`")
            }
            try await index.add(CapturedItem(root: item.item, value: root, files: item.files, bytes: item.size, started: item.capturedAt),
                                tree: { try await repository.tree($0, caching: false) })
        }
        if case let .file(node)? = snapshot.roots[SetLayout.vaultIndex] {
            let data = try await repository.read(node, offset: 0, length: Int(node.size))
            let lines = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
                try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data($0.utf8))
            }
            try index.addVaultIndex(lines)
        }
        return index
    }
}
