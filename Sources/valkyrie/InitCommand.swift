import ArgumentParser
import Foundation
import Repository
import Support

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a repository with its first key slot (a passphrase).",
        discussion: "The passphrase comes from $VALKYRIE_PASSWORD or --password-file. Add GPG and TPM slots with `valkyrie key add`.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Option(name: .long, help: "Label of the first key slot.")
    var label = "initial"

    func run() async throws {
        let config = try global.loadConfiguration()
        let backend = try repository.backend(config)
        guard let passphrase = try repository.passphrase() else {
            throw OperatorError.badInput("no passphrase for the first key slot",
                                         remedy: "set $VALKYRIE_PASSWORD or give --password-file")
        }
        guard !passphrase.isEmpty else {
            throw OperatorError.badInput("the passphrase is empty", remedy: "choose a passphrase")
        }
        let repo = try await Repository.initialize(backend: backend, slot: .passphrase(passphrase), label: label)
        let slot = try await KeyRing.slots(backend: backend).first
        struct Report: Encodable { let location: String; let id: String; let slot: String? }
        global.output.emit(Report(location: backend.location, id: repo.config.id, slot: slot?.id)) {
            "created repository \(repo.config.id.prefix(8)) at \(backend.location) with \(slot?.title ?? "a key slot")"
        }
    }
}
