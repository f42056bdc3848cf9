import ArgumentParser
import Catalog
import Foundation
import Support

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one set: its items, exports, drills and restores.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The set, by name (20261129T001107Z_host) or UUID.")
    var set: String

    func run() async throws {
        let catalog = try global.openCatalog()
        let details = try catalog.details(of: catalog.requireSet(set))
        global.output.emit(details) { Self.render(details) }
    }

    private static func render(_ details: SetDetails) -> String {
        let set = details.set
        var lines = [
            "set       \(set.name)",
            "id        \(set.id.uuidString)",
            "host      \(set.host) (set \(set.ordinal) of this host)",
            "status    \(set.status.rawValue)\(set.forgottenAt.map { ", forgotten \(HumanFormat.time($0))" } ?? "")",
            "started   \(HumanFormat.time(set.startedAt))",
            "finished  \(HumanFormat.time(set.finishedAt))",
            "size      \(HumanFormat.bytes(set.size)) in \(set.items) items",
            "valkyrie  \(set.valkyrieVersion)",
        ]
        if let error = set.error { lines.append("error     \(error)") }
        lines += set.warnings.map { "warning   \($0)" }
        if !details.items.isEmpty {
            var table = Table("ITEM", "SIZE", "FILES", "DIGEST", "WARNINGS")
            for item in details.items {
                table.add(item.item + (item.keyMaterial ? " (key material)" : ""), HumanFormat.bytes(item.size),
                          String(item.files), String(item.digest.prefix(16)), item.warnings.joined(separator: "; "))
            }
            lines += ["", table.rendered]
        }
        if !details.exports.isEmpty {
            var table = Table("EXPORT", "VAULTS", "RECIPIENTS", "SIZE")
            for export in details.exports {
                table.add(export.export + (export.vault.map { " \($0)" } ?? ""), export.vaults.joined(separator: ","),
                          export.recipients.joined(separator: ","), HumanFormat.bytes(export.size))
            }
            lines += ["", table.rendered]
        }
        if !details.drills.isEmpty {
            var table = Table("DRILL", "STARTED (UTC)", "STATUS", "CHECKS PASSED", "FAILED")
            for drill in details.drills {
                table.add(drill.id.uuidString, HumanFormat.time(drill.startedAt), drill.status.rawValue,
                          String(drill.passed), String(drill.failed))
            }
            lines += ["", table.rendered]
        }
        if !details.restores.isEmpty {
            var table = Table("RESTORED (UTC)", "KIND", "WHAT", "TO")
            for restore in details.restores {
                let what = [restore.vault, restore.item, restore.path].compactMap { $0 }.joined(separator: " ")
                let to = restore.target ?? restore.recipients.joined(separator: ",")
                table.add(HumanFormat.time(restore.restoredAt), restore.kind.rawValue, what, to)
            }
            lines += ["", table.rendered]
        }
        return lines.joined(separator: "\n")
    }
}
