import ArgumentParser
import Foundation
import Restore

struct RestorePlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-plan", abstract: "The steps to rebuild a Vaulthalla host from a set, written out for that set.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The set.")
    var set: String

    func run() async throws {
        let plan = try await RestorePlan.make(try await global.openSet(set, repository: repository))
        global.output.emit(plan) { plan.text }
    }
}
