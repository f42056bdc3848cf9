import ArgumentParser

extension Valkyrie {
    /// Every subcommand, in the order `valkyrie --help` lists them. One file per command.
    static let commands: [ParsableCommand.Type] = [
        VersionCommand.self,
        InitCommand.self,
        KeyCommand.self,
        VerifyCommand.self,
    ]
}
