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
        ForgetCommand.self,
        PruneCommand.self,
        BackupCommand.self,
        DrillCommand.self,
        DrillsCommand.self,
        DoctorCommand.self,
        FindCommand.self,
        HistoryCommand.self,
        DiffCommand.self,
        LsCommand.self,
        RestoreCommand.self,
        KeysCommand.self,
        RestorePlanCommand.self,
        MountCommand.self,
        StatusCommand.self,
    ]
}
