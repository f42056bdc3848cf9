import ArgumentParser
import Foundation
import Restore
import Support

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Bring files, vault files (decrypted) or a whole set back out of the repository.",
        discussion: """
            valkyrie restore SET:PATH --to DIR [--dry-run] [--overwrite]
            valkyrie restore --vault NAME --set SET LOGICAL_PATH --to DIR [--keys FILE] [--overwrite]   (a file or a folder)
            valkyrie restore SET --full --root DIR [--db CONNINFO] [--dry-run]
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "SET:PATH; with --vault the logical path; with --full the set.")
    var target: String

    @Option(name: .long, help: "Folder to restore into (created if missing); the file or folder keeps its name.")
    var to: String?

    @Flag(name: .long, help: "Replace what is already at the target.")
    var overwrite = false

    @Flag(name: .customLong("dry-run"), help: "Say what would be restored, write nothing.")
    var dryRun = false

    @Option(name: .long, help: "Restore a vault file or folder by logical path, decrypted.")
    var vault: String?

    @Option(name: .long, help: "The set (with --vault).")
    var set: String?

    @Option(name: .long, help: "Vault key export to use instead of the set's own: plaintext JSON or OpenPGP to a key you hold.")
    var keys: String?

    @Flag(name: .long, help: "Restore every item of the set under --root, and the dump into --db.")
    var full = false

    @Option(name: .long, help: "Root folder for --full (items land at their paths in the set under it).")
    var root: String?

    @Option(name: .long, help: "PostgreSQL conninfo for --full: the dump goes into this (empty) database with pg_restore.")
    var db: String?

    func validate() throws {
        if vault != nil {
            guard set != nil, to != nil else { throw ValidationError("--vault needs --set SET and --to DIR") }
            guard !full, root == nil, db == nil, !dryRun else { throw ValidationError("--vault does not go with --full, --root, --db or --dry-run") }
        } else if full {
            guard let root, !root.isEmpty else { throw ValidationError("--full needs --root DIR") }
            guard to == nil, !overwrite, keys == nil, set == nil else {
                throw ValidationError("--full takes the set as its argument and --root, not --to, --overwrite, --keys or --set")
            }
        } else {
            guard target.contains(":") else {
                throw ValidationError("give SET:PATH (or --vault NAME --set SET LOGICAL_PATH, or SET --full --root DIR)")
            }
            guard to != nil else { throw ValidationError("--to DIR is required") }
            guard keys == nil, set == nil, root == nil, db == nil else { throw ValidationError("--keys, --set, --root and --db go with --vault or --full") }
        }
    }

    func run() async throws {
        if let vault, let set, let to {
            let source = try await global.openSet(set, repository: repository)
            let keySource: KeySource = keys.map { .file($0, gnupgHome: nil) } ?? .setExport(gnupgHome: nil)
            let summary = try await VaultRestore.run(source, vault: vault, path: target, to: Self.absolute(to), keys: keySource,
                                                     overwrite: overwrite)
            global.output.emit(summary) {
                let what = summary.kind == "file"
                    ? HumanFormat.bytes(summary.bytes) + ", " + (summary.keyVersion.map { "key version \($0)\(summary.staleRecordedVersion ? ", recorded version was stale" : "")" } ?? "stored in plaintext")
                    : "\(summary.files) files, \(HumanFormat.bytes(summary.bytes))"
                return (["restored \(vault):\(summary.path) from \(summary.set) to \(summary.target) (\(what))"]
                    + summary.skippedSymlinks.map { "skipped symlink \(vault):\($0) (the index records no target)" }
                    + summary.failed.map { "not restored: \($0)" }).joined(separator: "\n")
            }
            if !summary.failed.isEmpty { throw CommandExit(status: .partial) }
        } else if full, let root {
            let config = try global.loadConfiguration()
            let pgRestore = config.postgres?.binDir.map { "\($0)/pg_restore" } ?? "pg_restore"
            let source = try await global.openSet(target, repository: repository)
            let output = global.output
            let summary = try await FullRestore.run(source, root: Self.absolute(root), database: db, pgRestore: pgRestore, dryRun: dryRun) { step in
                output.note((dryRun ? "would " : "") + "\(step.action) -> \(step.target)")
            }
            global.output.emit(summary) {
                dryRun ? "dry run: \(summary.steps.count) steps, nothing written"
                    : "restored set \(summary.set) under \(summary.root): \(summary.steps.count) steps, \(summary.warnings) warnings"
            }
            if summary.warnings > 0 { throw CommandExit(status: .partial) }
        } else if let to {
            let colon = target.firstIndex(of: ":")!
            let source = try await global.openSet(String(target[..<colon]), repository: repository)
            let summary = try await RawRestore.run(source, path: String(target[target.index(after: colon)...]), to: Self.absolute(to),
                                                   overwrite: overwrite, dryRun: dryRun)
            global.output.emit(summary) {
                let verb = summary.dryRun ? "would restore" : "restored"
                return (["\(verb) \(summary.set):\(summary.path) to \(summary.target) (\(summary.files) files, \(HumanFormat.bytes(summary.bytes)))"]
                    + summary.warnings.map { "warning: \($0)" }).joined(separator: "\n")
            }
            if !summary.warnings.isEmpty { throw CommandExit(status: .partial) }
        }
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
