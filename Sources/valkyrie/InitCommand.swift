import ArgumentParser
import Foundation
import Repository
import Support

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a repository with its first key slot: a passphrase, a GPG recipient, or both.",
        discussion: """
            The passphrase comes from $VALKYRIE_PASSWORD or --password-file. --key-file PATH also adds a key-file \
            slot (the file is made when missing). Add TPM slots with `valkyrie key add --tpm`.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Option(name: .long, help: "Also (or only) a GPG slot for this key fingerprint; its public key is enough.")
    var gpg: String?

    @Option(name: .long, help: "Label of the first key slot.")
    var label = "initial"

    func run() async throws {
        let config = try global.loadConfiguration()
        let backend = try repository.backend(config)
        let passphrase = try repository.passphrase()
        if passphrase?.isEmpty == true {
            throw OperatorError.badInput("the passphrase is empty", remedy: "choose a passphrase")
        }
        var slots: [NewKeySlot] = []
        if let passphrase { slots.append(.passphrase(passphrase)) }
        if let gpg { slots.append(.gpg(fingerprint: gpg)) }
        // Only the flag: $VALKYRIE_KEY_FILE and the config's key_file are for opening. A key file alone is refused
        // before its file is made, so a refused init leaves nothing behind.
        if let keyFile = repository.keyFile {
            guard !slots.isEmpty else { throw KeyRing.hostBoundOnly(backend.location, .keyfile) }
            slots.append(.keyFile(try KeyFile.readOrCreate(keyFile)))
        }
        guard let first = slots.first else {
            throw OperatorError.badInput("no credential for the first key slot",
                                         remedy: "set $VALKYRIE_PASSWORD, give --password-file, or give --gpg FINGERPRINT")
        }
        let repo = try await Repository.initialize(backend: backend, slot: first, label: label)
        for slot in slots.dropFirst() { try await repo.addSlot(slot, label: label) }
        let made = try await KeyRing.slots(backend: backend)
        struct Report: Encodable { let location: String; let id: String; let slots: [SlotSummary] }
        global.output.emit(Report(location: backend.location, id: repo.config.id, slots: made.map(SlotSummary.init))) {
            "created repository \(repo.config.id.prefix(8)) at \(backend.location) with \(made.map(\.title).joined(separator: " and "))"
        }
    }
}
