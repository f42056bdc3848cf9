import ArgumentParser
import Catalog
import Drill
import Foundation
import Support

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "Prove a set restores: restore its dump into a scratch PostgreSQL and check it.",
        discussion: """
        Checks the schema_migrations pins against those recorded under the set's Vaulthalla version, record counts,
        a random user, group, role assignment and share record, the cost-control policy state, key-export coverage,
        sampled files of every local and S3 vault (hash, GCM tag, size), and on swtpm hosts that the restored swtpm
        state unseals the sealed blobs. Every check is a catalog event; the report, with the time per step, is kept in
        the catalog (the mount's drills/). Exit 0 only if every check passed, 1 otherwise.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The set (name or id; default: the latest).")
    var set: String?

    @Option(name: .long, help: "Files sampled per vault (default 3).")
    var sample = 3

    @Option(name: .long, help: "Restore into a new database on this server (key=value conninfo; dropped afterwards) instead of a scratch cluster.")
    var db: String?

    func validate() throws {
        guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
        if let db, db.contains("://") { throw ValidationError("--db takes a key=value conninfo (host=... user=...), not a URI") }
    }

    func run() async throws {
        try await global.recorded("drill") { run in try await prove(run) }
    }

    private func prove(_ run: CommandRun) async throws {
        let config = try global.loadConfiguration()
        let catalog = try global.openCatalog()
        let record: SetRecord
        if let set {
            record = try catalog.requireSet(set)
        } else {
            guard let latest = try catalog.latestSet() else {
                throw OperatorError.badInput("the catalog has no sets to drill", remedy: "run `valkyrie backup` first")
            }
            record = latest
        }
        let repo = try await repository.open(global)
        let settings = DrillSettings(postgresBinDirectory: config.postgres?.binDir, conninfo: db,
                                     gnupgHome: config.exports?.gnupghome, sample: sample)
        let drill = Drill(set: record, repository: repo, catalog: catalog, settings: settings)
        let output = global.output
        let interrupted: @Sendable (String) -> OperatorError = { reason in
            OperatorError.failed("drill of \(record.name) \(reason); recorded as failed", remedy: "run `valkyrie drill` again")
        }
        let signals = SignalHandlers { signal in
            let reason = "interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")"
            drill.interrupt(reason: reason)
            // The run then ends at its next step and reports the interruption itself (exit 1); only a run that
            // does not end is cut short here.
            if drill.waitForRun(seconds: 30) { return }
            run.finish(.failed)
            Foundation.exit(output.report(interrupted(reason)))
        }
        defer { signals.cancel() }
        let report = try await drill.run()
        // The run returns once the interrupted teardown is done; the handler may not have exited yet.
        if let reason = drill.interruption { throw interrupted(reason) }
        global.output.emit(report) { report.markdown }
        if !report.passed {
            global.output.note("drill of \(report.set) FAILED: \(report.checks.filter { !$0.passed }.map(\.name).joined(separator: ", "))")
            throw CommandExit(status: .failed)
        }
    }
}

struct DrillsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drills", abstract: "List the drills of every set, oldest first.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let catalog = try global.openCatalog()
        struct Listed: Encodable { let set: String; let drill: DrillRecord }
        var drills: [Listed] = []
        for set in try catalog.sets(all: true) {
            drills += try catalog.details(of: set).drills.map { Listed(set: set.name, drill: $0) }
        }
        drills.sort { $0.drill.startedAt < $1.drill.startedAt }
        struct Report: Encodable { let drills: [Listed] }
        global.output.emit(Report(drills: drills)) {
            guard !drills.isEmpty else { return "no drills" }
            var table = Table("SET", "DRILL", "STARTED (UTC)", "VERDICT", "PASSED", "FAILED")
            for listed in drills {
                table.add(listed.set, listed.drill.id.uuidString, HumanFormat.time(listed.drill.startedAt), listed.drill.status.rawValue,
                          String(listed.drill.passed), String(listed.drill.failed))
            }
            return table.rendered
        }
    }
}
