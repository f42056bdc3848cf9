import ArgumentParser
import Catalog
import Foundation
import Repository
import Retention
import Support

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget the sets a retention policy does not keep (and remove their snapshots from the repository).",
        discussion: """
        Rules (a set is kept if any rule keeps it; each host's sets separately): --keep-last N newest sets,
        --keep-daily/weekly/monthly/yearly N newest set of each of the last N days/ISO weeks/months/years (UTC),
        --keep-within SPAN every set within SPAN of the newest, --keep-proven N newest sets with a passed drill.
        Without flags the config's `retention:` rules apply; with none at all, forget is refused unless --all.
        Sets are ordered by the catalog's sequence and the time the repository saw them land, so a set whose
        client clock ran ahead cannot push real sets out. Forgotten sets leave `sets` and the mount; their history
        stays in `log`. --prune runs `valkyrie prune` afterwards. Exit 0 done; 1 failed; 2 bad flags or settings.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Option(name: .customLong("keep-last"), help: "Keep the N newest sets.") var keepLast: Int?
    @Option(name: .customLong("keep-daily"), help: "Keep the newest set of each of the last N days.") var keepDaily: Int?
    @Option(name: .customLong("keep-weekly"), help: "Keep the newest set of each of the last N weeks.") var keepWeekly: Int?
    @Option(name: .customLong("keep-monthly"), help: "Keep the newest set of each of the last N months.") var keepMonthly: Int?
    @Option(name: .customLong("keep-yearly"), help: "Keep the newest set of each of the last N years.") var keepYearly: Int?
    @Option(name: .customLong("keep-within"), help: ArgumentHelp("Keep every set within SPAN of the newest (7d, 36h).", valueName: "SPAN"))
    var keepWithin: String?
    @Option(name: .customLong("keep-proven"), help: "Keep the N newest sets with a passed drill.") var keepProven: Int?
    @Option(name: .long, help: "Only this host's sets.") var host: String?
    @Flag(name: .customLong("dry-run"), help: "Show what would be forgotten; change nothing.") var dryRun = false
    @Flag(name: .long, help: "Forget every listed set (required when there is no keep rule).") var all = false
    @Flag(name: .long, help: "Run prune afterwards.") var prune = false
    @OptionGroup var pruneOptions: PruneFlags

    func validate() throws {
        for (name, value) in [("--keep-last", keepLast), ("--keep-daily", keepDaily), ("--keep-weekly", keepWeekly),
                              ("--keep-monthly", keepMonthly), ("--keep-yearly", keepYearly), ("--keep-proven", keepProven)] {
            if let value, value < 1 { throw ValidationError("\(name) takes a count of 1 or more") }
        }
        if let keepWithin, Span.parse(keepWithin) == nil {
            throw ValidationError("--keep-within \(keepWithin) is not a span; write it like 36h, 7d or 2w")
        }
        if all && !flagPolicy.isEmpty { throw ValidationError("--all forgets every set; it cannot be combined with keep rules") }
        if dryRun && prune { throw ValidationError("--dry-run changes nothing, so it cannot --prune") }
    }

    var flagPolicy: RetentionPolicy {
        RetentionPolicy(last: keepLast, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly, yearly: keepYearly,
                        within: keepWithin.flatMap(Span.parse), proven: keepProven)
    }

    func run() async throws {
        // `forget --prune` is what the prune timer runs: it counts as a prune in the metrics and the journal.
        if prune {
            try await global.recorded("prune") { run in try await forget(run) }
        } else {
            try await forget(nil)
        }
    }

    private func forget(_ run: CommandRun?) async throws {
        let config = try global.loadConfiguration()
        var policy: RetentionPolicy? = flagPolicy
        if policy!.isEmpty, !all { policy = try config.retention?.policy() }
        if all { policy = nil } else if policy?.isEmpty ?? true {
            throw OperatorError.badInput("forget has no keep rule: it would forget every set",
                                         remedy: "give --keep-last/--keep-daily/... or set retention: in the config; --all forgets everything on purpose")
        }
        let options = prune ? try config.pruneOptions(grace: pruneOptions.grace, repackThreshold: pruneOptions.repackThreshold) : nil
        let catalog = try global.openCatalog()
        let repo = try await repository.open(global)
        let report = try await Forgetter(catalog: catalog, repository: repo).forget(policy: policy, host: host, dryRun: dryRun)
        struct Result: Encodable { let forget: ForgetReport; let prune: PruneReport? }
        var pruned: PruneReport?
        if let options {
            pruned = try await Pruner(repository: repo, options: options).prune(recordingIn: catalog)
            run?.record("valkyrie_prune_last_removed_bytes", Double(pruned?.reclaimedBytes ?? 0))
        }
        global.output.emit(Result(forget: report, prune: pruned)) {
            var lines = [Self.describe(report)]
            if let pruned { lines.append(PruneCommand.describe(pruned, options: options!)) }
            return lines.joined(separator: "\n")
        }
    }

    static func describe(_ report: ForgetReport) -> String {
        guard !report.sets.isEmpty else { return "no sets" }
        var table = Table("SET", "HOST", "DECISION", "WHY")
        for entry in report.sets {
            table.add(entry.name, entry.host, entry.keep ? "keep" : (report.dryRun ? "would forget" : "forget"),
                      entry.reasons.joined(separator: ", "))
        }
        let verb = report.dryRun ? "would forget" : "forgot"
        return table.rendered + "\n\(report.policy): kept \(report.kept), \(verb) \(report.forgotten)"
            + (report.dryRun ? "" : ", removed \(report.removedSnapshots) snapshots")
    }
}

/// Prune's settings, shared by `prune` and `forget --prune`.
struct PruneFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Leave packs younger than SPAN alone and delete condemned packs only SPAN after (default: config retention.prune_grace, 12h). 0s only when nothing else writes.", valueName: "SPAN"))
    var grace: String?

    @Option(name: .customLong("repack-threshold"), help: ArgumentHelp("Repack packs more than PERCENT unused (default: config retention.repack_threshold, 20).", valueName: "PERCENT"))
    var repackThreshold: Int?

    func validate() throws {
        if let grace, Span.parse(grace) == nil { throw ValidationError("--grace \(grace) is not a span; write it like 12h or 0s") }
        if let repackThreshold, !(0...100).contains(repackThreshold) { throw ValidationError("--repack-threshold takes 0 to 100") }
    }
}
