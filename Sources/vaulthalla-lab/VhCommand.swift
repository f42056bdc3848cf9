import ArgumentParser
import Foundation
import Lab

struct VhCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vh", abstract: "The host's vh client stand-in (ROOT/bin/vh runs this).")

    @Option(help: "The lab host's folder.")
    var root: String

    @Argument(parsing: .captureForPassthrough, help: "vh's own arguments.")
    var arguments: [String] = []

    func run() throws {
        let reply = VhStandIn(root: root).run(arguments)
        FileHandle.standardOutput.write(reply.stdout)
        FileHandle.standardError.write(Data(reply.stderr.utf8))
        if reply.status != 0 { throw ExitCode(reply.status) }
    }
}
