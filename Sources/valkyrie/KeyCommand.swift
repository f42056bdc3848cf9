import ArgumentParser
import Foundation
import Repository
import Support

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage the key slots that hold the repository's master key.",
        subcommands: [KeyAddCommand.self, KeyListCommand.self, KeyRemoveCommand.self])
}

struct KeyListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List key slots (no key needed).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        let backend = try repository.backend(try global.loadConfiguration())
        let slots = try await KeyRing.slots(backend: backend)
        if slots.isEmpty {
            throw OperatorError.badInput("\(backend.location) has no key slots", remedy: "check --repo")
        }
        global.output.emit(slots.map(SlotSummary.init)) {
            slots.map { "\($0.id.prefix(8))  \($0.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))  \($0.label)  \($0.fingerprint ?? "")  \($0.host)  \(UTCTime.string($0.created))" }
                .joined(separator: "\n")
        }
    }
}

/// A slot as shown to the operator: no wrapped key, no salt.
struct SlotSummary: Encodable {
    let id: String, kind: String, label: String, host: String, created: Date, fingerprint: String?

    init(_ slot: KeySlot) {
        id = slot.id
        kind = slot.kind.rawValue
        label = slot.label
        host = slot.host
        created = slot.created
        fingerprint = slot.fingerprint
    }
}

struct KeyAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a key slot, opening the repository with an existing one.",
        discussion: """
            The new passphrase comes from $VALKYRIE_NEW_PASSWORD or --new-password-file. --key-file PATH adds a \
            key-file slot for PATH, creating it (mode 0600, 256 random bits) when missing; the repository is then \
            opened with the other credentials ($VALKYRIE_KEY_FILE and the config's key_file included).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Flag(name: .long, help: "Add a passphrase slot.")
    var passphrase = false

    @Option(name: .long, help: "Add a GPG slot for this key fingerprint (its public key must be in the keyring).")
    var gpg: String?

    @Flag(name: .long, help: "Add a TPM slot, sealed by the TPM of --tcti.")
    var tpm = false

    @Option(name: .customLong("new-password-file"), help: "File holding the new passphrase (default: $VALKYRIE_NEW_PASSWORD).")
    var newPasswordFile: String?

    @Option(name: .long, help: "Label of the new slot.")
    var label: String?

    func validate() throws {
        guard [passphrase, gpg != nil, tpm, repository.keyFile != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("say which one kind of slot to add: --passphrase, --gpg FINGERPRINT, --tpm or --key-file PATH")
        }
    }

    func run() async throws {
        let config = try global.loadConfiguration()
        if let keyFile = repository.keyFile {
            // --key-file names the new slot's file here; the repository opens with the other credentials.
            var opener = repository
            opener.keyFile = nil
            let repo = try await opener.open(global)
            let slot = try await repo.addSlot(.keyFile(try KeyFile.readOrCreate(keyFile)), label: label ?? "keyfile")
            global.output.emit(SlotSummary(slot)) { "added \(slot.title) for key file \(keyFile)" }
            return
        }
        let new: NewKeySlot
        if let gpg {
            new = .gpg(fingerprint: gpg)
        } else if tpm {
            guard let tcti = repository.tpm(config) else {
                throw OperatorError.badInput("no TPM given for the TPM slot", remedy: "give --tcti, $VALKYRIE_TPM_TCTI or the config's tpm_tcti")
            }
            new = .tpm(tcti: tcti)
        } else {
            new = .passphrase(try newPassphrase())
        }
        let repo = try await repository.open(global)
        let slot = try await repo.addSlot(new, label: label ?? (gpg != nil ? "gpg" : tpm ? "tpm" : "passphrase"))
        global.output.emit(SlotSummary(slot)) { "added \(slot.title)" }
    }

    private func newPassphrase() throws -> Data {
        let data: Data?
        if let newPasswordFile {
            guard let contents = FileManager.default.contents(atPath: newPasswordFile) else {
                throw OperatorError.badInput("password file \(newPasswordFile) cannot be read", remedy: "check the path")
            }
            data = RepositoryOptions.trimmingNewline(contents)
        } else {
            data = ProcessInfo.processInfo.environment["VALKYRIE_NEW_PASSWORD"].map { Data($0.utf8) }
        }
        guard let data, !data.isEmpty else {
            throw OperatorError.badInput("no new passphrase", remedy: "set $VALKYRIE_NEW_PASSWORD or give --new-password-file")
        }
        return data
    }
}

struct KeyRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a key slot; the last portable slot cannot be removed.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The slot id (or a unique prefix), from `valkyrie key list`.")
    var slot: String

    func run() async throws {
        let repo = try await repository.open(global)
        let removed = try await repo.removeSlot(slot)
        global.output.emit(SlotSummary(removed)) { "removed \(removed.title)" }
    }
}
