import ArgumentParser
import Foundation
import Repository
import Retention
import Support

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the repository: structure, and with --read-data the data itself.",
        discussion: """
        Without --read-data: every index, pack header and set is checked and every blob a set uses must be indexed.
        --read-data re-reads and authenticates every blob; --read-data=PERCENT reads the next of ceil(100/PERCENT)
        rotating subsets, so that many runs cover everything. Damaged blobs are named with every set and path they
        affect; exit 1 if any. Each run is a `verify.completed` event in the catalog (when this host has one), and
        `valkyrie sets` shows when each set's data was last read back.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Option(name: .customLong("read-data"), help: ArgumentHelp("Read and authenticate data: all (bare flag) or PERCENT of it.", valueName: "PERCENT"))
    var readData: Int?

    /// `--read-data` alone means all of it; ArgumentParser has no optional option values, so it is spelt out.
    static func expandBareReadData(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for (i, argument) in arguments.enumerated() {
            let next = i + 1 < arguments.count ? arguments[i + 1] : nil
            if argument == "--read-data", next.map({ Int($0) == nil }) ?? true {
                out.append("--read-data=100")
            } else {
                out.append(argument)
            }
        }
        return out
    }

    func validate() throws {
        if let readData, !(1...100).contains(readData) {
            throw ValidationError("--read-data takes a percentage from 1 to 100")
        }
    }

    func run() async throws {
        try await global.recorded("verify") { run in
            let repo = try await repository.open(global)
            // Each run is a `verify.completed` event in the catalog, when this host has one (a repository can be
            // verified from anywhere); `valkyrie sets` shows from it when each set's data was last read back.
            let catalogPath = try global.catalogPath()
            let report: VerifyReport
            if FileManager.default.fileExists(atPath: catalogPath) {
                report = try await Verifier(repository: repo).verify(readPercent: readData, recordingIn: try global.openCatalog()).0
            } else {
                report = try await Verifier(repository: repo).verify(readPercent: readData)
                global.output.note("no catalog at \(catalogPath): this run is not recorded")
            }
            run.record("valkyrie_verify_last_read_data_percent", Double(readData ?? 0))
            run.record("valkyrie_verify_last_problems", Double(report.problems.count), evenOnFailure: true)
            global.output.emit(report) { Self.describe(report) }
            if !report.isClean { throw CommandExit(status: .failed) }
        }
    }

    static func describe(_ report: VerifyReport) -> String {
        var lines = ["\(report.snapshots) sets, \(report.indexFiles) index files, \(report.packs) packs, \(report.blobs) blobs"]
        if report.unindexedPacks > 0 {
            lines.append("\(report.unindexedPacks) packs without an index (an interrupted write; the next backup reuses them)")
        }
        if report.condemnedPacks > 0 {
            lines.append("\(report.condemnedPacks) packs condemned by prune (a later prune deletes them)")
        }
        if report.packsRead > 0 || report.subset != nil {
            let subset = report.subset.map { " (subset \($0.bucket + 1) of \($0.of))" } ?? ""
            lines.append("read and authenticated \(report.packsRead) packs\(subset)")
        }
        for problem in report.problems {
            lines.append("DAMAGED \(problem.object): \(problem.detail)")
            lines += problem.affects.map { "  affects \($0)" }
        }
        lines.append(report.isClean ? "no problems found" : "\(report.problems.count) problems found")
        return lines.joined(separator: "\n")
    }
}
