import ArgumentParser
import Catalog
import Foundation
import Support

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show the catalog's events, oldest first.",
        discussion: "Events of types this valkyrie does not know (written by a newer one) are shown too.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Only events of this type (e.g. backup.completed).")
    var type: String?

    @Option(name: .long, help: "Only events that occurred at or after TIME: 2026-11-29T00:00:00Z, 2026-11-29, or an age like 36h or 7d.")
    var since: String?

    @Option(name: .long, help: "Only events of this set (name or UUID).")
    var set: String?

    @Option(name: .long, help: "Only the newest N events.")
    var limit: Int?

    func validate() throws {
        if let since, TimeArgument.parse(since) == nil {
            throw ValidationError("--since \(since) is not a time: use 2026-11-29T00:00:00Z, 2026-11-29, or an age like 36h or 7d")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
        if let type, type.isEmpty { throw ValidationError("--type needs an event type, e.g. backup.completed") }
    }

    func run() async throws {
        let catalog = try global.openCatalog(.reading)
        let setID = try set.map { try catalog.requireSet($0).id }
        let events = try catalog.events(EventFilter(type: type.map(EventType.init(rawValue:)),
                                                    since: since.flatMap { TimeArgument.parse($0) }, set: setID, limit: limit))
        struct Report: Encodable { let events: [StoredEvent] }
        global.output.emit(Report(events: events)) {
            guard !events.isEmpty else { return "no events" }
            let names = Dictionary(((try? catalog.sets(all: true)) ?? []).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            var table = Table("SEQ", "OCCURRED (UTC)", "TYPE", "HOST", "ACTOR", "SET", "DETAILS")
            for event in events {
                let type = event.isKnown ? event.type.rawValue : "\(event.type.rawValue) (unknown v\(event.version))"
                table.add(String(event.seq), HumanFormat.time(event.occurredAt), type, event.host, event.actorName,
                          event.set.map { names[$0] ?? $0.uuidString } ?? "-", HumanFormat.cut(Self.details(event)))
            }
            return table.rendered
        }
    }

    /// The payload without what other columns already show.
    private static func details(_ event: StoredEvent) -> String {
        guard case var .object(members) = event.payloadJSON else { return event.payloadJSON.compactText }
        for shown in ["set", "name", "host"] { members.removeValue(forKey: shown) }
        return JSONValue.object(members).compactText
    }
}
