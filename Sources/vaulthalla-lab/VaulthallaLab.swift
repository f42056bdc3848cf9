import ArgumentParser
import Foundation
import Lab
import Support

@main
struct VaulthallaLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vaulthalla-lab",
        abstract: "Build a realistic Vaulthalla host in a folder, for the demo, the tests and the benchmarks.",
        subcommands: [CreateCommand.self, MutateCommand.self, CheckCommand.self, VhCommand.self, SwtpmCommand.self,
                      DestroyCommand.self]
    )
}

/// Options every command takes.
struct RootOptions: ParsableArguments {
    @Option(help: "The lab host's folder.")
    var root: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func emit<T: Encodable>(_ value: T, human: () -> String) throws {
        if json {
            print(String(decoding: try JSONFormat.encoder(pretty: true).encode(value), as: UTF8.self))
        } else {
            print(human())
        }
    }
}

/// Runs `body`, turning an OperatorError into its one-line message and exit code.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as OperatorError {
        FileHandle.standardError.write(Data("vaulthalla-lab: \(error.description)\n".utf8))
        throw ExitCode(error.status.rawValue)
    }
}
