import ArgumentParser
import Capture
import Catalog
import Foundation
import Repository
import Support

struct CatalogVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Walk the event chain, recompute every hash, check the file, and compare with the repository's copy.",
        discussion: """
        Exit 1 names the first event that does not match (a row rewritten behind valkyrie's back), a catalog whose
        rows were rewritten and re-chained (the repository's copy differs), or a repository whose chain head is
        behind what it held before (a possible rollback). Exit 3: the repository lacks the newest events (a command
        was interrupted; the next one writes them). The repository is compared when one is given or configured
        (--repo, $VALKYRIE_REPOSITORY, the config's `repository`).
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Flag(name: .long, help: "After an investigated rollback: write the catalog's events into the repository again and move its head.")
    var repair = false

    func run() async throws {
        let catalog = try Catalog.open(at: global.catalogPath())
        let chain = try catalog.verifyChain()
        var comparison: ChainComparison?
        if let repo = try await openRepository() {
            if repair && chain.ok {
                do {
                    try await ChainMirror.upload(catalog, to: repo, acceptRollback: true)
                } catch let refusal as ChainMirror.Refusal {
                    throw refusal.error  // a rewritten chain is not repaired by writing it again
                }
            }
            comparison = try await ChainMirror.compare(catalog, with: repo, deep: true)
        } else if repair {
            throw OperatorError.badInput("--repair needs the repository", remedy: "give --repo or configure `repository`")
        }
        let report = Report(catalog: catalog.path, chain: chain, repository: comparison, peers: try catalog.peerChains(),
                            settings: try catalog.settings())
        global.output.emit(report) { Self.describe(report) }
        if !chain.ok || comparison?.state.isProblem == true { throw CommandExit(status: .failed) }
        if let state = comparison?.state, state == .pending || state == .missing { throw CommandExit(status: .partial) }
    }

    /// The repository when one is given or configured; the built-in default only when it holds a repository.
    private func openRepository() async throws -> Repository? {
        let config = try global.loadConfiguration()
        let explicit = repository.repo != nil || ProcessInfo.processInfo.environment["VALKYRIE_REPOSITORY"] != nil || config.repository != nil
        if !explicit, try await repository.backend(config).size("config") == nil { return nil }
        return try await repository.open(global)
    }

    static func describe(_ report: Report) -> String {
        let chain = report.chain
        var lines = ["catalog \(report.catalog): \(chain.events) events, head \(chain.head.seq) \(chain.head.hash.prefix(16))"]
        if chain.ok {
            lines[0] += ", chain and file ok"
        } else {
            lines[0] += ": FAILED" + (chain.firstBadSeq.map { ", first bad event \($0)" } ?? "")
            lines += chain.problems.map { "  \($0)" }
        }
        for peer in report.peers {
            lines.append("  chain \(peer.chain) of \(peer.hosts.joined(separator: ", ")) (from the repository): \(peer.events) events")
        }
        if let compared = report.repository {
            let head = compared.repositoryHead.map { "head \($0.seq) \($0.hash.prefix(16))" } ?? "no head"
            switch compared.state {
            case .same: lines.append("repository \(compared.repository): \(head), the same chain")
            case .empty: lines.append("repository \(compared.repository): nothing to compare (the catalog has no events)")
            default:
                let verdict = compared.state.isProblem ? "FAILED" : "behind"
                lines.append("repository \(compared.repository): \(head): \(verdict): \(compared.problem ?? compared.state.rawValue)")
            }
        } else {
            lines.append("repository: not compared (none given or configured)")
        }
        return lines.joined(separator: "\n")
    }

    struct Report: Encodable {
        let catalog: String
        let chain: ChainReport
        let repository: ChainComparison?
        let peers: [PeerChain]
        let settings: CatalogSettings
    }
}
