import ArgumentParser
import Capture
import Catalog
import Foundation
import Support

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a recovery set of this Vaulthalla host into the repository and record it in the catalog.",
        discussion: """
        Captures the PostgreSQL dump and vault index (one database snapshot), /etc/vaulthalla, /var/lib/vaulthalla
        (less the configured excludes), the swtpm state, the encrypted key and secret exports, the S3 vaults' objects
        and the version record, then checks every body against the vault index. Exit 0: complete; 3: complete with
        warnings or mismatches; 1: failed (recorded as such); 2: a setting is wrong.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Flag(name: .long, help: "Stop Vaulthalla's services for the capture (config maintenance.stop/start); they are started again whatever happens.")
    var maintenance = false

    func run() async throws {
        try await global.recorded("backup") { run in try await takeSet(run) }
    }

    private func takeSet(_ run: CommandRun) async throws {
        let config = try global.loadConfiguration()
        let settings = try config.captureSettings(valkyrieVersion: ValkyrieVersion.current)
        // A first backup creates the catalog, and its folder (/var/lib/valkyrie) if need be.
        let catalogPath = try global.catalogPath()
        try? FileManager.default.createDirectory(atPath: (catalogPath as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        let catalog = try global.openCatalog(.create)
        // A backup reads each tree once (the previous set's, and its own for the index): a large blob cache would
        // only fill with a million-file host's trees.
        let repo = try await repository.open(global, cacheBytes: 8 << 20)
        let display = ProgressDisplay(enabled: !global.json && isatty(STDERR_FILENO) == 1,
                                      expectedBytes: try? catalog.latestSet(host: settings.hostName)?.size)
        let backup = Backup(settings: settings, repository: repo, catalog: catalog, maintenance: maintenance,
                            progress: CaptureProgress(observer: { display.show($0) }))
        let output = global.output
        let signals = SignalHandlers { signal in
            let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
            let set = backup.interrupt(reason: "interrupted by \(name)")
            display.clear()
            let error = OperatorError.failed(set.map { "backup \($0) interrupted by \(name); the set is recorded as failed" }
                                                 ?? "backup interrupted by \(name) before it started a set",
                                             remedy: "run `valkyrie backup` again: it reuses what was stored")
            run.finish(.failed)
            Foundation.exit(output.report(error))
        }
        defer { signals.cancel() }
        let summary = try await backup.run()
        display.clear()
        run.record("valkyrie_backup_last_added_bytes", Double(summary.bytesAdded))
        run.record("valkyrie_backup_last_size_bytes", Double(summary.bytes))
        run.record("valkyrie_backup_last_warnings", Double(summary.items.reduce(0) { $0 + $1.warnings.count } + summary.mismatches.count))
        global.output.emit(summary) { Self.describe(summary) }
        if summary.status != SetStatus.complete.rawValue { throw CommandExit(status: .partial) }
    }

    static func describe(_ summary: BackupSummary) -> String {
        var lines = ["set \(summary.set): \(summary.status), \(summary.items.count) items, \(Self.bytes(summary.bytes)) "
            + "(read \(Self.bytes(summary.bytesRead)), added \(Self.bytes(summary.bytesAdded)), \(summary.reusedFiles) files reused) "
            + "in \(String(format: "%.1f", summary.seconds)) s"]
        for item in summary.items {
            lines.append("  \(item.item.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(item.files).leftPadded(6)) files "
                + "\(Self.bytes(item.size).leftPadded(10))\(item.reused > 0 ? ", \(item.reused) reused" : "")")
            lines += item.warnings.map { "    warning: \($0)" }
        }
        if !summary.excluded.isEmpty { lines.append("excluded: \(summary.excluded.joined(separator: ", "))") }
        lines += summary.mismatches.map { "MISMATCH \($0)" }
        return lines.joined(separator: "\n")
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
