import ArgumentParser

extension Valkyrie {
    /// Every subcommand, in the order `valkyrie --help` lists them. One file per command.
    static let commands: [ParsableCommand.Type] = [
        SetsCommand.self,
        ShowCommand.self,
        LogCommand.self,
        CatalogCommand.self,
        VersionCommand.self,
        InitCommand.self,
        KeyCommand.self,
        VerifyCommand.self,
        BackupCommand.self,
        DoctorCommand.self,
        MountCommand.self,
    ]
}
