import ArgumentParser
import Lab

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Decrypt every body through the database and the keys and compare with the lab's truth (exit 1 on a mismatch).")

    @OptionGroup var options: RootOptions

    @Flag(help: "Skip unsealing the .sealed_* blobs with the host's swtpm.")
    var noUnseal = false

    func run() async throws {
        try await reporting {
            let report = try await Checker.check(root: options.root, unseal: !noUnseal)
            try options.emit(report) {
                var text = "\(report.vaults) vaults, \(report.files) files (\(report.encrypted) encrypted, \(report.plaintext) plaintext, "
                    + "\(report.empty) empty; \(report.oldKeyVersion) on an old key, \(report.staleKeyVersion) with a stale key version), "
                    + "\(report.s3Objects) S3 objects, \(report.sealedSecrets) sealed secrets: "
                text += report.ok ? "ok" : "\(report.mismatches.count) mismatches\n  " + report.mismatches.joined(separator: "\n  ")
                return text
            }
            if !report.ok { throw ExitCode(1) }
        }
    }
}
