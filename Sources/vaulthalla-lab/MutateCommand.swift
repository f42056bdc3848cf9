import ArgumentParser
import Lab

struct MutateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mutate", abstract: "Apply a day of use: new files, edits, deletes, renames, a key rotation now and then.")

    @OptionGroup var options: RootOptions

    @Option(help: "The day to apply (after the host's current day).")
    var day: Int

    func run() async throws {
        try await reporting {
            let summary = try await Mutator.mutate(root: options.root, day: day)
            try options.emit(summary) {
                "day \(summary.day): \(summary.added) added, \(summary.edited) edited, \(summary.deleted) deleted, "
                    + "\(summary.renamed) renamed, \(summary.s3Changes) S3 changes"
                    + (summary.rotatedVaults.isEmpty ? "" : ", rotated \(summary.rotatedVaults.joined(separator: ", "))")
            }
        }
    }
}
