import ArgumentParser
import Catalog
import Foundation
import Support
import Synchronization

/// The frame of a command that runs unattended (backup, drill, verify, prune): a start and an end line on
/// stderr, the catalog's events as they are appended, and at the end, success or failure, the metrics file.
final class CommandRun: Sendable {
    let command: String
    let started: Date
    let log: Log
    private let metrics: MetricsFile?
    private let catalogPath: String?
    private let tail: EventTail?
    private let changes = Mutex<[String: Double?]>([:])
    private let failureChanges = Mutex<[String: Double?]>([:])
    private let finished = Mutex(false)

    init(command: String, global: GlobalOptions) {
        self.command = command
        let log = Log(verbose: global.verbose), started = Date()
        self.log = log
        self.started = started
        let config = try? global.loadConfiguration()
        metrics = (config?.monitoring ?? MonitoringSettings()).metricsFile
        let catalogPath = try? global.catalogPath()
        self.catalogPath = catalogPath
        tail = log.showsEvents ? catalogPath.map { EventTail(log: log, catalogPath: $0, since: started) } : nil
    }

    /// Sets a series the command owns (e.g. bytes added), written if the command succeeds (or `evenOnFailure`).
    func record(_ name: String, _ value: Double?, evenOnFailure: Bool = false) {
        changes.withLock { $0[name] = value }
        if evenOnFailure { failureChanges.withLock { $0[name] = value } }
    }

    /// Writes the end line and the metrics once, however the command ends (also from a signal handler).
    func finish(_ status: ExitStatus) {
        guard finished.withLock({ done in defer { done = true }; return !done }) else { return }
        let seconds = Date().timeIntervalSince(started)
        let succeeded = status == .ok || status == .partial
        if log.showsEvents {
            log.line("\(command): \(succeeded ? "done" : "failed") (exit \(status.rawValue)) in \(String(format: "%.1f", seconds)) s",
                     level: succeeded ? (status == .ok ? .info : .warning) : .error)
        }
        guard let metrics else { return }
        let now = Date().timeIntervalSince1970
        var update: [String: Double?] = [
            MetricsFile.series("valkyrie_last_duration_seconds", command: command): seconds,
            MetricsFile.series("valkyrie_last_exit_code", command: command): Double(status.rawValue),
            MetricsFile.series(succeeded ? "valkyrie_last_success_timestamp_seconds" : "valkyrie_last_failure_timestamp_seconds",
                               command: command): now,
        ]
        let owned = succeeded ? changes.withLock { $0 } : failureChanges.withLock { $0 }
        update.merge(owned) { $1 }
        update.merge(catalogSeries()) { $1 }
        do {
            try metrics.update(update)
        } catch {
            log.line("warning: metrics file \(metrics.path) not written: \(error)", level: .warning)
        }
    }

    /// Set count and drill verdicts, from the catalog as it is now (whichever command ran).
    private func catalogSeries() -> [String: Double?] {
        guard let catalogPath, FileManager.default.fileExists(atPath: catalogPath),
              let catalog = try? Catalog.open(at: catalogPath, mode: .existing) else { return [:] }
        var series: [String: Double?] = [:]
        if let sets = try? catalog.sets() { series["valkyrie_sets"] = Double(sets.count) }
        if let drills = try? catalog.events(EventFilter(type: .drillCompleted)) {
            let verdicts = drills.compactMap { event in event.decode(DrillCompleted.self).map { (event.occurredAt, $0.passed) } }
            if let last = verdicts.last {
                series["valkyrie_drill_last_timestamp_seconds"] = last.0.timeIntervalSince1970
                series["valkyrie_drill_last_passed"] = last.1 ? 1 : 0
            }
            if let pass = verdicts.last(where: { $0.1 }) {
                series["valkyrie_drill_last_pass_timestamp_seconds"] = pass.0.timeIntervalSince1970
            }
        }
        return series
    }

    func startFollowing() {
        if log.showsEvents { log.line("\(command): started") }
        tail?.start()
    }

    func stopFollowing() async {
        await tail?.stop()
    }

    /// The exit status an error leaves with (as Output.report decides it).
    static func status(of error: Error) -> ExitStatus {
        switch error {
        case let error as OperatorError: error.status
        case let exit as CommandExit: exit.status
        case is ValidationError: .usage
        default: .failed
        }
    }
}

extension GlobalOptions {
    /// Runs `body` as the unattended command `command` (CommandRun): events logged as they happen, the metrics file
    /// written at the end, success or failure. `run.record` sets the command's own series (MetricsFile.families).
    func recorded<T>(_ command: String, _ body: (CommandRun) async throws -> T) async throws -> T {
        let run = CommandRun(command: command, global: self)
        run.startFollowing()
        do {
            let value = try await body(run)
            await run.stopFollowing()
            run.finish(.ok)
            return value
        } catch {
            await run.stopFollowing()
            run.finish(CommandRun.status(of: error))
            throw error
        }
    }
}
