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
        let catalog = try global.openCatalog(.reading)
        let sets = try catalog.sets(host: host)
        // When each set was last proven, and the verdict (derived from the drill events).
        let finished = try catalog.lastFinishedDrills()
        let lastDrills = sets.map { finished[$0.id] }
        // When each set's data was last read back whole (`verify --read-data`).
        let readBack = try catalog.lastDataReadBack()
        struct Listed: Encodable {
            let set: SetRecord
            let lastDrill: LastDrill?
            let dataReadBackAt: Date?
            func encode(to encoder: Encoder) throws {
                try set.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encodeIfPresent(lastDrill, forKey: .lastDrill)
                try container.encodeIfPresent(dataReadBackAt, forKey: .dataReadBackAt)
            }
            enum Key: String, CodingKey { case lastDrill, dataReadBackAt }
        }
        struct LastDrill: Encodable { let id: UUID; let verdict: String; let finishedAt: Date? }
        struct Report: Encodable { let sets: [Listed] }
        let listed = zip(sets, lastDrills).map { set, drill in
            Listed(set: set, lastDrill: drill.map { LastDrill(id: $0.id, verdict: $0.status.rawValue, finishedAt: $0.finishedAt) },
                   dataReadBackAt: readBack[set.id])
        }
        global.output.emit(Report(sets: listed)) {
            guard !sets.isEmpty else { return "no sets" }
            var table = Table("SET", "HOST", "#", "STATUS", "ITEMS", "SIZE", "FINISHED (UTC)", "LAST DRILL (UTC)", "DATA READ (UTC)")
            for (set, drill) in zip(sets, lastDrills) {
                let status = set.status == .partial ? "partial (\(set.warningCount) warnings)" : set.status.rawValue
                table.add(set.name, set.host, String(set.ordinal), status, String(set.items),
                          HumanFormat.bytes(set.size), HumanFormat.time(set.finishedAt),
                          drill.map { "\($0.status.rawValue) \(HumanFormat.time($0.finishedAt))" } ?? "never",
                          readBack[set.id].map { HumanFormat.time($0) } ?? "never")
            }
            return table.rendered
        }
    }
}
