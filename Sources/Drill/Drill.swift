import Capture
import Catalog
import Foundation
import Repository
import Support
import Synchronization
import Vaulthalla

/// One `valkyrie drill`: restores a set's dump into a scratch PostgreSQL, runs every check (each a `drill.check`
/// event), tears the scratch server, swtpm and folder down whatever happened, and records the report.
public final class Drill: Sendable {
    public let set: SetRecord
    public let repository: Repository
    public let catalog: Catalog
    public let settings: DrillSettings
    public let id = UUID()
    private let scratch = Mutex<Scratch>(Scratch())

    struct Scratch {
        var folder: ScratchFolder?
        var postgres: ScratchPostgres?
        var swtpm: ScratchSwtpm?
        var finished = false
        var interruption: String?
    }

    /// Serializes teardowns: the run's own waits for one a signal began, so nothing is left when it returns.
    private let tearingDown = Mutex(())
    /// Signalled when `run` returns (its own teardown done), for an interrupt that waits for it.
    private let runEnded = DispatchSemaphore(value: 0)

    /// Why the drill was interrupted (SIGINT/SIGTERM), if it was.
    public var interruption: String? { scratch.withLock { $0.interruption } }

    public init(set: SetRecord, repository: Repository, catalog: Catalog, settings: DrillSettings) {
        self.set = set
        self.repository = repository
        self.catalog = catalog
        self.settings = settings
    }

    public func run() async throws -> DrillReport {
        defer { runEnded.signal() }
        let started = Date()
        let source = try await SetSource.find(set, in: repository)
        try catalog.append(DrillStarted(drill: id, set: set.id))
        var checks: [CheckResult] = []
        var steps: [DrillReport.Step] = []
        @discardableResult func step(_ name: String, since start: Date) -> Double {
            steps.append(.init(step: name, seconds: Date().timeIntervalSince(start)))
            return steps[steps.count - 1].seconds
        }
        /// A check's event, and its time as a step (named `stepName` when that is not the check's name).
        func record(_ check: CheckResult, as stepName: String? = nil, timed: Bool = true) throws {
            checks.append(check)
            if timed { steps.append(.init(step: stepName ?? check.name, seconds: check.seconds)) }
            // An interrupted drill is already recorded as completed (failed); what its run still does is not evidence.
            guard !scratch.withLock({ $0.finished }) else { return }
            try catalog.append(DrillCheck(drill: id, set: set.id, name: check.name, passed: check.passed, evidence: check.eventEvidence,
                                      sensitive: check.sensitive ? true : nil))
        }
        var databaseVersion: Int?
        do {
            defer {
                let teardownStart = Date()
                tearDown()
                step("teardown", since: teardownStart)
            }
            let folder = try ScratchFolder(parent: settings.temporaryDirectory, id: id)
            scratch.withLock { $0.folder = folder }
            // 1. the dump, restored and timed
            let fetchStart = Date()
            guard try await source.restore(SetLayout.postgres, into: "\(folder.setFolder)/postgres") else {
                throw OperatorError.failed("set \(set.name) has no postgres root", remedy: "drill another set")
            }
            let dump = "\(folder.setFolder)/postgres/vaulthalla.dump"
            step("dump from the repository", since: fetchStart)
            let dumpBytes = (try? FileManager.default.attributesOfItem(atPath: dump)[.size] as? Int) ?? 0
            let postgres = settings.conninfo.map { ScratchPostgres.database(on: $0, id: id, settings: settings) }
                ?? ScratchPostgres.cluster(in: folder, settings: settings)
            scratch.withLock { $0.postgres = postgres }
            let serverStart = Date()
            try postgres.start()
            let serverSeconds = step("scratch server start", since: serverStart)
            let restoreStart = Date()
            let restored = try postgres.restore(dump: dump)
            try record(CheckResult(name: "restore", passed: restored.status == 0,
                                   evidence: (restored.status == 0 ? [] : ["FAILED: pg_restore exited \(restored.status)"]) + restored.errors.prefix(5)
                                       + ["pg_restore of postgres/vaulthalla.dump (\(dumpBytes) bytes) into the \(postgres.description), "
                                          + "started in \(String(format: "%.3f", serverSeconds)) s"],
                                   seconds: Date().timeIntervalSince(restoreStart)), as: "pg_restore")
            let database = try VaulthallaDatabase(conninfo: postgres.conninfo)
            databaseVersion = database.connection.serverVersion
            // 2. the checks
            let indexLines = try await source.contents(SetLayout.vaultIndex).map {
                String(decoding: $0, as: UTF8.self).split(separator: "\n").count
            } ?? 0
            let checksOnDB = DatabaseChecks(matcher: RecordMatcher(connection: database.connection), database: database,
                                            dump: DumpReader(dump: dump, pgRestore: settings.tool("pg_restore")),
                                            version: source.version, vaultIndexLines: indexLines)
            try record(checksOnDB.metadata())
            try record(checksOnDB.records())
            try record(checksOnDB.costControl())
            let exportsStart = Date()
            let exported = try await ExportedKeys.load(source, gnupgHome: settings.gnupgHome)
            step("key exports decrypted", since: exportsStart)
            let keys = KeyChecks(database: database, exported: exported)
            try record(keys.coverage())
            var unwrapped: [Int: VaultKeyring] = [:]
            if source.has(SetLayout.swtpm) {
                let (check, rings) = await keys.swtpm(source, folder: folder) { swtpm in self.scratch.withLock { $0.swtpm = swtpm } }
                unwrapped = rings
                try record(check)
            }
            let files = FileChecks(source: source, database: database, exported: exported, unwrapped: unwrapped, sample: settings.sample)
            try record(await files.local())
            try record(await files.s3())
        } catch {
            try? record(CheckResult(name: "drill", passed: false, evidence: ["FAILED: \((error as? OperatorError)?.description ?? "\(error)")"],
                                    seconds: Date().timeIntervalSince(started)), timed: false)
        }
        // 3. the report, kept in the drill.completed event (the mount shows it under drills/)
        let report = DrillReport(drill: id, set: set.name, setID: set.id, startedAt: started, seconds: Date().timeIntervalSince(started),
                                 vhVersion: source.version.vhVersion,
                                 package: source.version.package.map { "\($0.version)\($0.origin.map { " (\($0))" } ?? "")" },
                                 databaseVersion: source.version.postgresServerVersion, scratchDatabaseVersion: databaseVersion,
                                 tpmMode: source.version.tpmMode, gpgRecipient: source.version.gpgRecipient, checks: checks, steps: steps)
        if markFinished() {
            try catalog.append(DrillCompleted(drill: id, set: set.id, passed: report.passed, report: report.markdown))
        }
        return report
    }

    /// For SIGINT/SIGTERM: tears everything down and records the drill as failed, before the run (which waits for
    /// this teardown) can return. The run goes on until its current step fails; `waitForRun` waits for it.
    public func interrupt(reason: String) {
        scratch.withLock { $0.interruption = reason }
        tearDown {
            guard markFinished() else { return }
            _ = try? catalog.append(DrillCheck(drill: id, set: set.id, name: "drill", passed: false, evidence: "FAILED: \(reason)"))
            _ = try? catalog.append(DrillCompleted(drill: id, set: set.id, passed: false, report: "drill interrupted: \(reason)"))
        }
    }

    /// Waits up to `seconds` for `run` to return (its own teardown removes what a step made after the interrupt's,
    /// such as the swtpm state restored into the scratch folder); false if it did not.
    public func waitForRun(seconds: Double) -> Bool {
        runEnded.wait(timeout: .now() + seconds) == .success
    }

    private func markFinished() -> Bool {
        scratch.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
    }

    /// Stops the swtpm and the PostgreSQL, removes the scratch folder. Safe to call twice: the folder stays known,
    /// so the run's own teardown removes it again if a step recreated it after an interrupt's.
    private func tearDown(then record: () -> Void = {}) {
        tearingDown.withLock { _ in
            defer { record() }
            let taken = scratch.withLock { state in
                defer { state.swtpm = nil; state.postgres = nil }
                return (state.swtpm, state.postgres, state.folder)
            }
            taken.0?.stop()
            taken.1?.tearDown()
            taken.2?.remove()
        }
    }
}
