import ArgumentParser
import Catalog
import Foundation
import Restore
import Support

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Every version of one file across all sets: size, time, sets.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A raw path (/etc/vaulthalla/config.yaml), or a logical path with --vault.")
    var path: String

    @Option(name: .long, help: "The vault whose logical path PATH is.")
    var vault: String?

    struct Version: Encodable {
        var path: String
        var kind: String
        var size: Int64
        var modified: Date?
        var version: String
        var sets: [String]
    }

    func run() async throws {
        let catalog = try global.openCatalog()
        let path = SetSource.normalized(path)
        var versions: [Version] = []
        if let vault {
            for holding in try catalog.setsHolding(vault: vault, path: path) {
                if let last = versions.last, last.version == holding.file.entry.version { versions[versions.count - 1].sets.append(holding.set.name); continue }
                let entry = holding.file.entry
                versions.append(Version(path: "\(vault):\(entry.path)", kind: entry.kind.rawValue, size: entry.size, modified: nil,
                                        version: entry.version, sets: [holding.set.name]))
            }
        } else {
            for holding in try catalog.setsHolding(path: path) {
                if let last = versions.last, last.version == holding.file.entry.version { versions[versions.count - 1].sets.append(holding.set.name); continue }
                let entry = holding.file.entry
                versions.append(Version(path: entry.path, kind: entry.kind.rawValue, size: entry.size,
                                        modified: Date(timeIntervalSince1970: Double(entry.mtimeNanoseconds) / 1e9),
                                        version: entry.version, sets: [holding.set.name]))
            }
        }
        guard !versions.isEmpty else {
            throw OperatorError.badInput("no set holds \(vault.map { "\($0):" } ?? "")\(path)",
                                         remedy: "search with `valkyrie find '*\((path as NSString).lastPathComponent)*'\(vault.map { " --vault \($0)" } ?? "")`")
        }
        global.output.emit(versions) {
            var table = Table("VERSION", "SIZE", "MODIFIED (UTC)", "FIRST SET", "LAST SET", "SETS")
            for version in versions {
                table.add(String(version.version.prefix(12)), HumanFormat.bytes(version.size), HumanFormat.time(version.modified),
                          version.sets.first ?? "-", version.sets.last ?? "-", String(version.sets.count))
            }
            return table.rendered
        }
    }
}
