import ArgumentParser
import Lab

struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy", abstract: "Drop the host's database and buckets, stop its swtpm, and delete the folder.")

    @OptionGroup var options: RootOptions

    func run() async throws {
        try await reporting {
            try await LabTeardown.destroy(root: options.root)
        }
    }
}
