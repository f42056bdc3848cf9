import ArgumentParser
import Catalog
import Foundation
import Restore
import Support

struct FindCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find", abstract: "Find raw and logical vault paths across sets: one line per version, with the sets holding it.",
        discussion: "PATTERN is a glob (*, ?, [...]); without a '/' it matches the last part of a path anywhere.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Glob over raw paths (/etc/vaulthalla/config.yaml) and logical vault paths (/finance/q3.xlsx).")
    var pattern: String

    @Option(name: .long, help: "Only logical paths of this vault.")
    var vault: String?

    @Option(name: .long, help: "Only this set.")
    var set: String?

    @Option(name: .long, help: "Only sets started at or after this time (2026-11-29, 2026-11-29T00:00:00Z, 36h, 7d).")
    var since: String?

    func validate() throws {
        if let since, TimeArgument.parse(since) == nil {
            throw ValidationError("--since \(since) is not a time (2026-11-29, 2026-11-29T00:00:00Z, 36h, 7d)")
        }
        if pattern.isEmpty { throw ValidationError("PATTERN is empty") }
    }

    struct Result: Encodable {
        var files: [FoundFile]
        var vaultFiles: [FoundVaultFile]
    }

    func run() async throws {
        let catalog = try global.openCatalog(.reading)
        let scope = FindScope(set: try set.map { try SetSource.listedSet($0, in: catalog) }, since: since.flatMap { TimeArgument.parse($0) })
        let glob = pattern.contains("/") ? pattern : "*/" + pattern
        let result = Result(files: vault == nil ? try catalog.find(glob: glob, scope: scope) : [],
                            vaultFiles: try catalog.findVaultFiles(glob: glob, vault: vault, scope: scope))
        global.output.emit(result) {
            var table = Table("PATH", "KIND", "SIZE", "MODIFIED (UTC)", "SETS")
            for found in result.files {
                let entry = found.file.entry
                table.add(entry.path, entry.kind.rawValue, HumanFormat.bytes(entry.size),
                          HumanFormat.time(Date(timeIntervalSince1970: Double(entry.mtimeNanoseconds) / 1e9)), HumanFormat.spanned(found.sets))
            }
            for found in result.vaultFiles {
                let entry = found.file.entry
                table.add("\(entry.vault):\(entry.path)", entry.kind.rawValue, HumanFormat.bytes(entry.size), "-", HumanFormat.spanned(found.sets))
            }
            return table.rows.isEmpty ? "" : table.rendered
        }
        if result.files.isEmpty && result.vaultFiles.isEmpty {
            throw OperatorError.failed("nothing matches \(pattern)\(vault.map { " in vault \($0)" } ?? "")",
                                       remedy: "widen the pattern (for example '*\(pattern)*') or drop --set / --since")
        }
    }
}
