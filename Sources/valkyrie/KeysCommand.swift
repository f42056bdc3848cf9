import ArgumentParser
import Foundation
import Restore
import Support

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Vault keys held in sets' key exports.", subcommands: [KeysExtractCommand.self])
}

struct KeysExtractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract", abstract: "Pull one vault's key out of a set's export, re-encrypted to a recipient (or plaintext when asked).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Option(name: .long, help: "The set.")
    var set: String

    @Option(name: .long, help: "The vault, by name.")
    var vault: String

    @Option(name: .long, help: "Fingerprint of the key to encrypt the vault key to (its public key in the GPG keyring).")
    var recipient: String?

    @Flag(name: .long, help: "Write the key in plaintext (0600) to --to FILE instead.")
    var plaintext = false

    @Option(name: .long, help: "File to write (a new file). Without it, the encrypted key goes to stdout.")
    var to: String?

    func validate() throws {
        if plaintext {
            guard recipient == nil else { throw ValidationError("--plaintext and --recipient exclude each other") }
            guard to != nil else { throw ValidationError("--plaintext needs --to FILE") }
        } else if recipient == nil {
            throw ValidationError("give --recipient FPR (or --plaintext --to FILE)")
        }
    }

    func run() async throws {
        let source = try await global.openSet(set, repository: repository)
        let destination: KeyExtraction.Destination = plaintext
            ? .plaintext(file: RestoreCommand.absolute(to!)) : .recipient(recipient!, file: to.map(RestoreCommand.absolute))
        let (summary, armored) = try await KeyExtraction.run(source, vault: vault, keys: .setExport(gnupgHome: nil), to: destination)
        if summary.plaintext {
            FileHandle.standardError.write(Data("valkyrie: warning: \(summary.file!) holds vault \(vault)'s key in plaintext: anyone who reads it can decrypt the vault; move it to where it is needed and delete it\n".utf8))
        }
        if let armored, !global.json {
            FileHandle.standardOutput.write(armored)
            return
        }
        global.output.emit(summary) {
            "vault \(vault) key version \(summary.keyVersion) from \(summary.set) " +
                (summary.plaintext ? "written in plaintext to \(summary.file!)" : "encrypted to \(summary.recipient!) in \(summary.file ?? "stdout")")
        }
    }
}
