import ArgumentParser
import Catalog
import Foundation
import Restore

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "What changed between two sets: added, removed, changed, per item and per vault by logical path.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The older set.")
    var from: String

    @Argument(help: "The newer set.")
    var to: String

    func run() async throws {
        let catalog = try global.openCatalog()
        let diff = try SetDiff(catalog: catalog, from: SetSource.listedSet(from, in: catalog), to: SetSource.listedSet(to, in: catalog))
        global.output.emit(diff) {
            var lines: [String] = []
            for (label, groups) in [("item", diff.items), ("vault", diff.vaults)] {
                for group in groups {
                    lines.append("\(label) \(group.name): \(group.added.count) added, \(group.removed.count) removed, \(group.changed.count) changed")
                    lines += group.added.map { "  + \($0)" } + group.removed.map { "  - \($0)" } + group.changed.map { "  ~ \($0)" }
                }
            }
            return lines.isEmpty ? "no differences between \(diff.from) and \(diff.to)" : lines.joined(separator: "\n")
        }
    }
}
