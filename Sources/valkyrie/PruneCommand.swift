import ArgumentParser
import Foundation
import Repository
import Retention
import Support

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove repository data that no remaining set needs; safe while backups run.",
        discussion: """
        Marks every blob any set in the repository uses (every host's), condemns packs nothing uses and repacks
        packs mostly unused; condemned packs leave the index at once and are deleted by the first prune at least
        the grace period later, unless a set that landed meanwhile uses them (docs/repository-format.md, Prune).
        A damaged index, pack list or set is refused: run `valkyrie verify` first. Exit 0 done; 1 refused or
        failed; 2 bad flags or settings.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var flags: PruneFlags

    func run() async throws {
        try await global.recorded("prune") { run in
            let config = try global.loadConfiguration()
            let options = try config.pruneOptions(grace: flags.grace, repackThreshold: flags.repackThreshold)
            let catalog = try global.openCatalog()
            let repo = try await repository.open(global)
            let report = try await Pruner(repository: repo, options: options).prune(recordingIn: catalog)
            run.record("valkyrie_prune_last_removed_bytes", Double(report.reclaimedBytes))
            global.output.emit(report) { Self.describe(report, options: options) }
        }
    }

    static func describe(_ report: PruneReport, options: PruneOptions) -> String {
        var lines = ["\(report.snapshots) sets use \(report.usedBlobs) blobs in \(report.packs) packs (\(HumanFormat.bytes(report.packBytes)))"]
        lines.append("reclaimed \(HumanFormat.bytes(report.reclaimedBytes)): deleted \(report.deletedPacks) packs condemned earlier")
        if report.condemnedPacks > 0 {
            lines.append("condemned \(report.condemnedPacks) packs (\(HumanFormat.bytes(report.pendingBytes))), "
                + "deleted by the first prune after \(Span.text(options.grace))")
        }
        if report.repackedPacks > 0 {
            lines.append("repacked \(report.repackedPacks) packs: \(report.repackedBlobs) blobs copied into \(report.writtenPacks) new packs")
        }
        if report.rescuedPacks > 0 { lines.append("kept \(report.rescuedPacks) condemned packs a newer set uses") }
        if report.youngPacks > 0 { lines.append("left \(report.youngPacks) packs younger than \(Span.text(options.grace)) alone") }
        lines.append(String(format: "took %.1f s", report.seconds))
        return lines.joined(separator: "\n")
    }
}
