import ArgumentParser
import Lab

struct SwtpmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swtpm", abstract: "Start or stop a swtpm on the host's var/lib/swtpm/vaulthalla; start prints its TCTI.")

    @Argument(help: "start or stop.")
    var action: String

    @OptionGroup var options: RootOptions

    func validate() throws {
        guard ["start", "stop"].contains(action) else { throw ValidationError("action must be start or stop") }
    }

    func run() async throws {
        try await reporting {
            if action == "start" {
                print(try LabSwtpm.start(root: options.root))
            } else {
                LabSwtpm.stop(root: options.root)
            }
        }
    }
}
