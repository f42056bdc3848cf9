import ArgumentParser

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Check or rebuild the catalog.",
        subcommands: [CatalogVerifyCommand.self, CatalogRebuildCommand.self])
}
