import Capture
import Catalog
import Foundation
import Repository
import Support

/// What forget decided and did.
public struct ForgetReport: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public var set: UUID
        public var name: String
        public var host: String
        public var keep: Bool
        public var reasons: [String]
        /// The time retention ordered the set by (see RetentionPolicy.apply).
        public var time: Date
        public var snapshot: String?
    }

    public var policy: String
    public var dryRun: Bool
    /// Every listed set considered, newest first per host.
    public var sets: [Entry] = []
    /// Snapshots removed from the repository (the forgotten sets', and any left from an earlier forget).
    public var removedSnapshots = 0

    public var kept: Int { sets.filter(\.keep).count }
    public var forgotten: Int { sets.count - kept }
}

/// Applies a retention policy to the catalog's listed sets, host by host: each forgotten set gets a
/// `set.forgotten` event (it leaves `sets` and the mount; its history stays in the log) and its snapshot is
/// removed from the repository, so the next prune can reclaim what only it used.
public struct Forgetter: Sendable {
    public let catalog: Catalog
    public let repository: Repository

    public init(catalog: Catalog, repository: Repository) {
        self.catalog = catalog
        self.repository = repository
    }

    /// `policy` nil forgets every listed set (`--all`).
    public func forget(policy: RetentionPolicy?, host: String? = nil, dryRun: Bool = false, now: Date = Date()) async throws -> ForgetReport {
        var report = ForgetReport(policy: policy?.summary ?? "all", dryRun: dryRun)
        let sets = try catalog.sets(host: host)
        let snapshots = try await SetSnapshots.map(repository)
        let sequences = try catalog.startSequences()
        let proven = try catalog.provenSets()
        for (host, group) in Dictionary(grouping: sets, by: \.host).sorted(by: { $0.key < $1.key }) {
            let byID = Dictionary(uniqueKeysWithValues: group.map { ($0.id, $0) })
            let decisions: [RetentionDecision]
            if let policy {
                decisions = policy.apply(to: group.map { set in
                    RetentionCandidate(id: set.id, sequence: sequences[set.id] ?? 0, claimed: set.startedAt,
                                       landed: snapshots[set.id]?.landed, proven: proven.contains(set.id))
                }, now: now)
            } else {
                decisions = group.reversed().map { RetentionDecision(id: $0.id, keep: false, reasons: [], time: $0.startedAt) }
            }
            for decision in decisions {
                guard let set = byID[decision.id] else { continue }
                report.sets.append(.init(set: set.id, name: set.name, host: host, keep: decision.keep, reasons: decision.reasons,
                                         time: decision.time, snapshot: snapshots[set.id]?.id.hex))
            }
        }
        guard !dryRun else { return report }

        let reason = policy.map { "not kept by \($0.summary)" } ?? "forget --all"
        // The events first, in one transaction: a set whose snapshot went while the catalog still listed it
        // would be worse than a forgotten set whose snapshot the next forget removes.
        try catalog.append(report.sets.filter { !$0.keep }.map {
            try EventDraft(SetForgotten(set: $0.set, reason: reason, snapshot: $0.snapshot), occurredAt: Date())
        })
        // Every forgotten set's snapshot goes, including any an interrupted forget left behind; oldest first, each
        // once the index rows it started that later sets still show point into the next set that stays.
        let forgotten = try catalog.sets(all: true).filter { $0.forgottenAt != nil }.sorted { ($0.host, $0.ordinal) < ($1.host, $1.ordinal) }
        for set in forgotten {
            guard let snapshot = snapshots[set.id] else { continue }
            try await moveRows(of: set, snapshots: snapshots)
            try await repository.removeSnapshot(snapshot.id)
            report.removedSnapshots += 1
        }
        return report
    }

    /// Re-derives the rows `set` started that a remaining set still shows from that set's snapshot, the way
    /// the backup and `catalog rebuild --from-repository` derive them.
    private func moveRows(of set: SetRecord, snapshots: [UUID: SetSnapshot]) async throws {
        guard let next = try catalog.successorForRows(of: set) else { return }
        guard let stored = snapshots[next.id] else {
            throw OperatorError.failed("set \(next.name) has no snapshot in \(repository.backend.location), so forgotten set \(set.name)'s snapshot stays",
                                       remedy: "run `valkyrie verify`, then `valkyrie catalog rebuild --from-repository`")
        }
        let contents = try await CatalogFromRepository.contents(of: next, snapshot: try await repository.snapshot(stored.id),
                                                                catalog: catalog, repository: repository)
        try catalog.repoint(set, to: next, from: contents)
    }
}
