import ArgumentParser
import Catalog
import Foundation
import Support

struct SetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sets", abstract: "List the complete (and partial) recovery sets, oldest first.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Only sets of this host.")
    var host: String?

    func run() async throws {
        let sets = try global.openCatalog().sets(host: host)
        struct Report: Encodable { let sets: [SetRecord] }
        global.output.emit(Report(sets: sets)) {
            guard !sets.isEmpty else { return "no sets" }
            var table = Table("SET", "HOST", "#", "STATUS", "ITEMS", "SIZE", "FINISHED (UTC)")
            for set in sets {
                let status = set.status == .partial ? "partial (\(set.warningCount) warnings)" : set.status.rawValue
                table.add(set.name, set.host, String(set.ordinal), status, String(set.items),
                          HumanFormat.bytes(set.size), HumanFormat.time(set.finishedAt))
            }
            return table.rendered
        }
    }
}
