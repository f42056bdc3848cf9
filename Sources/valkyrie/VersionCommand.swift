import ArgumentParser

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Valkyrie's version.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        struct Report: Encodable { let version: String }
        global.output.emit(Report(version: ValkyrieVersion.current)) { "valkyrie \(ValkyrieVersion.current)" }
    }
}
