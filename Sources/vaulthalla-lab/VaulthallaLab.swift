import ArgumentParser
import Lab

@main
struct VaulthallaLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vaulthalla-lab",
        abstract: "Build a realistic Vaulthalla host in a folder, for the demo, the tests and the benchmarks."
    )
}
