import ArgumentParser
import Foundation
import Support

/// Entry point: parses, runs, and turns every failure into a one-line message (or a JSON object with
/// `--json`) and one of the stable exit codes 0 / 1 / 2 / 3.
@main
enum Main {
    static func main() async {
        ProcessMemory.limitArenas()
        let output = Output(json: CommandLine.arguments.contains("--json"))
        ConfigurationCache.prefetch(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try Valkyrie.parseAsRoot(VerifyCommand.expandBareReadData(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // The command's own failure is reported; a chain upload that failed too is said on stderr.
            let chain = await ChainSync.finish()
            let code = output.report(error)
            if let chain, let status = ExitStatus(rawValue: code) { exit(ChainSync.report(chain, after: status).rawValue) }
            exit(code)
        }
        if let chain = await ChainSync.finish() { exit(ChainSync.report(chain, after: .ok).rawValue) }
    }
}

struct Valkyrie: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "valkyrie",
        abstract: "Disaster-recovery sets for Vaulthalla hosts: back up, browse, restore, prove.",
        discussion: "Exit codes: 0 ok, 1 failed, 2 usage or bad input, 3 partial (done with warnings).",
        version: ValkyrieVersion.current,
        subcommands: Valkyrie.commands
    )
}
