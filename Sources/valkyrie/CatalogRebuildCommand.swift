import ArgumentParser
import Capture
import Catalog
import Foundation
import Support

struct CatalogRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Replay every event into the projections, or rebuild the whole catalog from the repository.",
        discussion: """
        Without --from-repository the event chain is never changed: the projections (sets, items, exports, drills)
        are dropped and replayed (restores are read from the events), the file and vault index kept. With --from-repository (a new host: same
        repository, same key) the catalog is made from the chains kept in the repository: this host's chain (or
        --chain), every other host's chain beside it, and the file and vault index derived from each set's trees.
        Refused into a catalog that has events unless --force, which moves the old file aside first.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Flag(name: .customLong("from-repository"), help: "Rebuild the catalog from the chains and sets in the repository.")
    var fromRepository = false

    @Option(name: .long, help: "With --from-repository: the chain to continue, by id or host (default: this host's, or the only one).")
    var chain: String?

    @Flag(name: .long, help: "With --from-repository: replace a catalog that has events (it is kept as CATALOG.replaced-TIME).")
    var force = false

    func validate() throws {
        if !fromRepository && (chain != nil || force) { throw ValidationError("--chain and --force go with --from-repository") }
    }

    func run() async throws {
        guard fromRepository else { return try replay() }
        let path = try global.catalogPath()
        let existing = FileManager.default.fileExists(atPath: path)
        // With --force the old file is only moved, never opened: a damaged catalog is the case this is for.
        if existing && !force {
            let current = try Catalog.open(at: path)
            let empty = try current.isEmpty()
            try current.close()
            if !empty {
                throw OperatorError.badInput("catalog \(path) already has events; rebuilding would replace it",
                                             remedy: "give --force to move it aside (kept as \(path).replaced-TIME), or choose another --catalog")
            }
        }
        let repo = try await repository.open(global)
        // Built beside the target and moved into place only when whole: a failed rebuild leaves nothing behind.
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).rebuild-\(getpid())"
        let report: CatalogFromRepository.Report
        do {
            let fresh = try Catalog.open(at: temporary, mode: .create)
            defer { try? fresh.close() }
            report = try await CatalogFromRepository.rebuild(into: fresh, from: repo, select: chain)
        } catch {
            Self.remove(temporary)
            throw error
        }
        if existing {
            let aside = "\(path).replaced-\(UTCTime.compact(Date()))"
            try Self.move(path, to: aside)
            global.output.note("moved the previous catalog to \(aside)")
        }
        try Self.move(temporary, to: path)
        struct Output: Encodable { let catalog: String; let fromRepository: CatalogFromRepository.Report }
        global.output.emit(Output(catalog: path, fromRepository: report)) {
            let peers = report.peers.map { "\($0.hosts.joined(separator: "/")) (\($0.seq) events)" }.joined(separator: ", ")
            return "rebuilt \(path) from \(repo.backend.location): chain \(report.chain) of \(report.hosts.joined(separator: "/")), \(report.events) events"
                + (peers.isEmpty ? "" : "; other hosts' chains: \(peers)")
                + "; \(report.rebuild.sets) sets, \(report.rebuild.drills) drills, \(report.rebuild.restores) restores; "
                + "file index \(report.rebuild.fileIndexRows) rows, vault index \(report.rebuild.vaultIndexRows) rows from \(report.indexedSets) sets"
        }
    }

    private func replay() throws {
        let catalog = try global.openCatalog()
        let report = try catalog.rebuild()
        struct Output: Encodable { let catalog: String; let rebuild: RebuildReport }
        global.output.emit(Output(catalog: catalog.path, rebuild: report)) {
            "rebuilt \(catalog.path) from \(report.events) events: \(report.sets) sets, \(report.items) items, "
                + "\(report.exports) exports, \(report.drills) drills, \(report.restores) restores; "
                + "file index (\(report.fileIndexRows) rows) and vault index (\(report.vaultIndexRows) rows) \(report.contentIndexes)"
        }
    }

    /// SQLite's companions (-wal, -shm) travel with the file.
    private static func move(_ from: String, to: String) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: from + suffix) {
            guard rename(from + suffix, to + suffix) == 0 else {
                throw OperatorError.failed("cannot move \(from + suffix) to \(to + suffix): \(String(cString: strerror(errno)))",
                                           remedy: "check the catalog folder's permissions")
            }
        }
    }

    private static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
