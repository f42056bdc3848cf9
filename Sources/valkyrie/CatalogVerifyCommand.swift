import ArgumentParser
import Catalog
import Foundation
import Support

struct CatalogVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Walk the event chain, recompute every hash, and check the file.",
        discussion: "Exit 1 names the first event that does not match (a row rewritten behind valkyrie's back).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let catalog = try global.openCatalog()
        let chain = try catalog.verifyChain()
        let report = Report(catalog: catalog.path, chain: chain, settings: try catalog.settings())
        global.output.emit(report) {
            let head = "catalog \(catalog.path): \(chain.events) events, head \(chain.head.seq) \(chain.head.hash.prefix(16))"
            guard !chain.ok else { return head + ", chain and file ok" }
            let first = chain.firstBadSeq.map { ", first bad event \($0)" } ?? ""
            return ([head + ": FAILED" + first] + chain.problems.map { "  \($0)" }).joined(separator: "\n")
        }
        if !chain.ok { throw CommandExit(status: .failed) }
    }

    struct Report: Encodable {
        let catalog: String
        let chain: ChainReport
        let settings: CatalogSettings
    }
}
