import Catalog
import Foundation
import Repository

extension Pruner {
    /// Prunes, then records `prune.completed`.
    public func prune(recordingIn catalog: Catalog) async throws -> PruneReport {
        let report = try await prune()
        try catalog.append(PruneCompleted(removedPacks: report.deletedPacks, removedBytes: report.reclaimedBytes,
                                          keptPacks: report.packs - report.deletedPacks + report.writtenPacks,
                                          condemnedPacks: report.condemnedPacks, pendingBytes: report.pendingBytes,
                                          repackedPacks: report.repackedPacks, seconds: report.seconds))
        return report
    }
}

extension Verifier {
    /// Verifies, then records `verify.completed`, with when each of the catalog's sets was last read back.
    public func verify(readPercent: Int?, recordingIn catalog: Catalog) async throws -> (VerifyReport, VerifyCompleted) {
        let report = try await verify(readPercent: readPercent)
        var readBack: [DataReadBack]?
        if let times = report.readBack {
            let snapshots = try await SetSnapshots.map(repository)
            readBack = snapshots.compactMap { set, snapshot in times[snapshot.id.hex].map { DataReadBack(set: set, at: $0) } }
                .sorted { $0.set.uuidString < $1.set.uuidString }
        }
        let event = VerifyCompleted(checkedPacks: report.packs, readDataPercent: readPercent.map(Double.init),
                                    problems: report.problems.map { "\($0.object): \($0.detail)" },
                                    subset: report.subset.map { $0.bucket + 1 }, subsets: report.subset?.of,
                                    packsRead: readPercent == nil ? nil : report.packsRead, readBack: readBack)
        try catalog.append(event)
        return (report, event)
    }
}
