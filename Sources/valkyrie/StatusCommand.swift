import ArgumentParser
import Catalog
import Foundation
import Repository
import Support
import Vaulthalla

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "One screen: repository, catalog, last backup, drill and verify, key slots, TPM mode, and what needs attention.",
        discussion: """
        A monitoring check: exit 0 when nothing needs attention; 3 when something deserves a look (the last backup \
        had warnings, no drill yet, no portable key slot); 1 when something is wrong (no successful backup within \
        monitoring.backup_max_age_hours (26), the last backup failed, no passing drill within \
        monitoring.drill_max_age_days (35) or the last drill failed, the catalog's chain or the repository fails, the \
        last verify found damage); 2 bad usage or settings.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        let config = try global.loadConfiguration()
        let monitoring = config.monitoring ?? MonitoringSettings()
        var report = StatusReport(checkedAt: Date())
        await report.inspectRepository(repository, config: config)
        report.inspectCatalog(global)
        report.inspectTPM(configured: repository.tpm(config))
        report.judge(backupMaxAge: monitoring.backupMaxAge, drillMaxAge: monitoring.drillMaxAge)
        global.output.emit(report) { report.screen }
        if report.exitCode != .ok { throw CommandExit(status: report.exitCode) }
    }
}

/// What `valkyrie status` found; its `--json` shape.
struct StatusReport: Encodable {
    struct RepositoryState: Encodable {
        var location: String
        var reachable: Bool
        var slots: [SlotSummary]
        var error: String?
    }

    struct CatalogState: Encodable {
        var path: String
        var events: Int64?
        var chainOK: Bool
        var sets: Int
        var error: String?
    }

    struct BackupState: Encodable {
        var set: String
        var status: String
        var startedAt: Date
        var finishedAt: Date?
        var size: Int64
        var items: Int
        /// The set's and its items' warnings.
        var warnings: [String]
        var error: String?
    }

    struct DrillState: Encodable {
        var set: String
        var passed: Bool
        var finishedAt: Date
        var checksPassed: Int
        var checksFailed: Int
    }

    struct VerifyState: Encodable {
        var at: Date
        var readDataPercent: Double?
        var problems: [String]
    }

    struct TPMState: Encodable {
        var mode: String
        var tcti: String
        /// The TPM state travels with the set (swtpm), or only the key exports survive the host (hardware).
        var software: Bool
        /// The TPM key slots are unsealed with (`tpm_tcti`, `--tcti`).
        var slotTCTI: String?
    }

    struct Attention: Encodable {
        /// `warning` (exit 3) or `critical` (exit 1).
        var severity: String
        var message: String
    }

    var checkedAt: Date
    var repository: RepositoryState?
    var catalog: CatalogState?
    var lastBackup: BackupState?
    var lastSuccessfulBackup: BackupState?
    var lastDrill: DrillState?
    var lastPassingDrill: DrillState?
    var lastVerify: VerifyState?
    var tpm: TPMState?
    var attention: [Attention] = []
    var exitCode: ExitStatus = .ok
    /// The oldest set's start: how long there could have been drills.
    private var firstSetAt: Date?

    enum CodingKeys: String, CodingKey {
        case checkedAt, repository, catalog, lastBackup, lastSuccessfulBackup, lastDrill, lastPassingDrill, lastVerify, tpm
        case attention, exitCode
    }

    init(checkedAt: Date) { self.checkedAt = checkedAt }

    mutating func inspectRepository(_ options: RepositoryOptions, config: Configuration) async {
        let location = options.location(config)
        do {
            let slots = try await KeyRing.slots(backend: try options.backend(config))
            repository = RepositoryState(location: location, reachable: !slots.isEmpty, slots: slots.map(SlotSummary.init),
                                         error: slots.isEmpty ? "no key slots: not a Valkyrie repository" : nil)
        } catch {
            repository = RepositoryState(location: location, reachable: false, slots: [], error: Self.text(error))
        }
    }

    mutating func inspectCatalog(_ global: GlobalOptions) {
        let path = (try? global.catalogPath()) ?? "?"
        let catalog: Catalog
        do {
            catalog = try global.openCatalog()
        } catch {
            self.catalog = CatalogState(path: path, events: nil, chainOK: false, sets: 0, error: Self.text(error))
            return
        }
        do {
            let chain = try catalog.verifyChain()
            let listed = try catalog.sets()
            self.catalog = CatalogState(path: catalog.path, events: chain.events, chainOK: chain.ok, sets: listed.count,
                                        error: chain.ok ? nil : (chain.problems.first ?? "chain broken"))
            let all = try catalog.sets(all: true)
            firstSetAt = all.first?.startedAt
            lastBackup = try all.last.map { try Self.backup($0, catalog) }
            lastSuccessfulBackup = try all.last(where: \.isListed).map { try Self.backup($0, catalog) }
            let names = Dictionary(all.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            var drills: [DrillState] = []
            for event in try catalog.events(EventFilter(type: .drillCompleted)) {
                guard let done = event.decode(DrillCompleted.self) else { continue }
                let record = try catalog.set(done.set.uuidString).flatMap { try catalog.details(of: $0).drills.first { $0.id == done.drill } }
                drills.append(DrillState(set: names[done.set] ?? done.set.uuidString, passed: done.passed, finishedAt: event.occurredAt,
                                         checksPassed: record?.passed ?? 0, checksFailed: record?.failed ?? 0))
            }
            lastDrill = drills.last
            lastPassingDrill = drills.last(where: \.passed)
            lastVerify = try catalog.events(EventFilter(type: .verifyCompleted, limit: 1)).last.flatMap { event in
                event.decode(VerifyCompleted.self).map { VerifyState(at: event.occurredAt, readDataPercent: $0.readDataPercent, problems: $0.problems) }
            }
        } catch {
            self.catalog = CatalogState(path: catalog.path, events: nil, chainOK: false, sets: 0, error: Self.text(error))
        }
    }

    mutating func inspectTPM(configured: String?) {
        let mode = TPMMode.select()
        let name = switch mode {
        case .environment(let variable, _): "from $\(variable)"
        case .device(let path): "hardware (\(path))"
        case .swtpm: "swtpm"
        }
        tpm = TPMState(mode: name, tcti: mode.tcti, software: mode.isSoftware, slotTCTI: configured)
    }

    /// Decides what needs attention and the exit code.
    mutating func judge(backupMaxAge: TimeInterval, drillMaxAge: TimeInterval) {
        func critical(_ message: String) { attention.append(Attention(severity: "critical", message: message)) }
        func warning(_ message: String) { attention.append(Attention(severity: "warning", message: message)) }
        if let repository, !repository.reachable {
            critical("repository \(repository.location) cannot be read: \(repository.error ?? "unknown error")")
        } else if let repository, !repository.slots.contains(where: { $0.kind != "tpm" }) {
            warning("repository \(repository.location) has only TPM key slots: losing this host's TPM loses the repository (`valkyrie key add --gpg`)")
        }
        if let catalog, let error = catalog.error {
            critical(catalog.events == nil ? "catalog \(catalog.path): \(error)"
                                           : "catalog \(catalog.path) chain does not verify: \(error) (`valkyrie catalog verify`)")
        }
        if let success = lastSuccessfulBackup {
            let age = checkedAt.timeIntervalSince(success.finishedAt ?? success.startedAt)
            if age > backupMaxAge { critical("no successful backup for \(Self.age(age)) (last: \(success.set))") }
        } else if catalog?.events != nil {
            critical("no successful backup yet (`valkyrie backup`)")
        }
        if let last = lastBackup {
            if last.status == SetStatus.failed.rawValue {
                critical("the last backup \(last.set) failed: \(last.error ?? "see `valkyrie show \(last.set)`")")
            } else if last.status == SetStatus.partial.rawValue, last.set == lastSuccessfulBackup?.set {
                warning("the last backup \(last.set) has \(last.warnings.count) warnings (`valkyrie show \(last.set)`)")
            }
        }
        if let drill = lastDrill, !drill.passed {
            critical("the last drill (of \(drill.set)) failed \(drill.checksFailed) checks (`valkyrie show \(drill.set)`)")
        }
        if let pass = lastPassingDrill {
            let age = checkedAt.timeIntervalSince(pass.finishedAt)
            if age > drillMaxAge { critical("no passing drill for \(Self.age(age)) (`valkyrie drill`)") }
        } else if let firstSetAt {
            let message = "no drill has passed yet (`valkyrie drill`)"
            if checkedAt.timeIntervalSince(firstSetAt) > drillMaxAge { critical(message) } else if lastDrill?.passed != false { warning(message) }
        }
        if let verify = lastVerify, !verify.problems.isEmpty {
            critical("the last verify found \(verify.problems.count) problems (`valkyrie verify`)")
        }
        exitCode = attention.contains { $0.severity == "critical" } ? .failed : attention.isEmpty ? .ok : .partial
    }

    var screen: String {
        var lines: [String] = []
        func add(_ label: String, _ text: String) { lines.append(label.padding(toLength: 12, withPad: " ", startingAt: 0) + text) }
        if let repository {
            let slots = repository.slots.map { "\($0.kind) \"\($0.label)\"" }.joined(separator: ", ")
            add("repository", repository.location + (repository.reachable ? ": \(repository.slots.count) key slots (\(slots))" : ": UNREADABLE"))
        }
        if let catalog {
            add("catalog", catalog.path + (catalog.events.map { ": \($0) events, \(catalog.sets) sets, chain \(catalog.chainOK ? "ok" : "BROKEN")" }
                                           ?? ": CANNOT BE READ"))
        }
        func backupLine(_ backup: BackupState) -> String {
            "\(backup.set): \(backup.status), \(Self.age(checkedAt.timeIntervalSince(backup.finishedAt ?? backup.startedAt))) ago, "
                + "\(backup.items) items, \(HumanFormat.bytes(backup.size))"
        }
        if let last = lastBackup {
            add("last backup", backupLine(last))
            for warning in last.warnings.prefix(5) { add("", "warning: \(HumanFormat.cut(warning))") }
            if last.warnings.count > 5 { add("", "... \(last.warnings.count - 5) more (`valkyrie show \(last.set)`)") }
            if let success = lastSuccessfulBackup, success.set != last.set { add("last good", backupLine(success)) }
        } else {
            add("last backup", "none")
        }
        if let drill = lastDrill {
            add("last drill", "\(HumanFormat.time(drill.finishedAt)) of \(drill.set): \(drill.passed ? "passed" : "FAILED") "
                + "(\(drill.checksPassed) passed, \(drill.checksFailed) failed)")
        } else {
            add("last drill", "none")
        }
        if let verify = lastVerify {
            let read = verify.readDataPercent.map { "\(MetricsFile.format($0)) % of the data read" } ?? "structure only"
            add("last verify", "\(HumanFormat.time(verify.at)): \(read), \(verify.problems.isEmpty ? "no problems" : "\(verify.problems.count) PROBLEMS")")
        } else {
            add("last verify", "none recorded")
        }
        if let tpm {
            add("tpm", "\(tpm.mode), \(tpm.tcti): " + (tpm.software ? "the swtpm state is in every set" : "only the key exports survive this host"))
        }
        if attention.isEmpty {
            add("attention", "none")
        } else {
            for (index, item) in attention.enumerated() {
                add(index == 0 ? "attention" : "", "\(item.severity == "critical" ? "CRITICAL" : "warning"): \(item.message)")
            }
        }
        return lines.joined(separator: "\n")
    }

    private static func backup(_ set: SetRecord, _ catalog: Catalog) throws -> BackupState {
        let items = try catalog.details(of: set).items
        return BackupState(set: set.name, status: set.status.rawValue, startedAt: set.startedAt, finishedAt: set.finishedAt, size: set.size,
                           items: set.items, warnings: set.warnings + items.flatMap { item in item.warnings.map { "\(item.item): \($0)" } },
                           error: set.error)
    }

    static func age(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<120: "\(Int(max(seconds, 0))) s"
        case ..<7200: "\(Int(seconds / 60)) min"
        case ..<(3 * 86400): "\(Int(seconds / 3600)) h"
        default: "\(Int(seconds / 86400)) days"
        }
    }

    private static func text(_ error: Error) -> String {
        (error as? OperatorError)?.description ?? "\(error)"
    }
}
