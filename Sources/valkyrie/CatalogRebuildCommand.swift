import ArgumentParser
import Catalog
import Foundation
import Support

struct CatalogRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Drop the projections (sets, items, exports, drills, restores) and replay every event into them.",
        discussion: "The event chain itself is never changed. The file and vault index are kept: they are re-derived from set contents, which come from the repository.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let catalog = try global.openCatalog()
        let report = try catalog.rebuild()
        struct Output: Encodable { let catalog: String; let rebuild: RebuildReport }
        global.output.emit(Output(catalog: catalog.path, rebuild: report)) {
            "rebuilt \(catalog.path) from \(report.events) events: \(report.sets) sets, \(report.items) items, "
                + "\(report.exports) exports, \(report.drills) drills, \(report.restores) restores; "
                + "file index (\(report.fileIndexRows) rows) and vault index (\(report.vaultIndexRows) rows) \(report.contentIndexes)"
        }
    }
}
