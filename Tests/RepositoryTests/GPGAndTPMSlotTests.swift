import Foundation
import GPG
@testable import Repository
import Support
import Testing

/// GPG and TPM key slots against the real services of `scripts/services` (GPG keyring, swtpm).
@Suite struct GPGAndTPMSlotTests {
    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw ServiceMissing(variable: name)
        }
        return value
    }

    struct ServiceMissing: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set: start the test services (scripts/services start DIR, then source DIR/env)" }
    }

    /// A keyring holding only the public half of `fingerprint`, removed (and its agent stopped) afterwards.
    final class PublicKeyring {
        let path = "/tmp/vk-gpg-\(UUID().uuidString.prefix(8))"

        init(exporting fingerprint: String, from home: String) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let exported = try GPGContext(homeDirectory: home).exportPublicKey(fingerprint)
            _ = try GPGContext(homeDirectory: path).importKeys(exported)
        }

        deinit {
            _ = try? Subprocess.run("gpgconf", ["--homedir", path, "--kill", "all"])
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    @Test("a GPG slot is added with only the public key and opened with the secret key; without it, exit 2 naming the slot")
    func gpgSlot() async throws {
        let home = try Self.environment("VALKYRIE_TEST_GNUPGHOME")
        let fingerprint = try Self.environment("VALKYRIE_TEST_GPG_FPR")
        let publicOnly = try PublicKeyring(exporting: fingerprint, from: home)
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let slot = try await repository.addSlot(.gpg(fingerprint: fingerprint, homeDirectory: publicOnly.path), label: "operator")
        #expect(slot.kind == .gpg && slot.fingerprint == fingerprint)

        let opened = try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.gpg(homeDirectory: home)])
        #expect(opened.config.id == repository.config.id)
        await #expect { try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.gpg(homeDirectory: publicOnly.path)]) } throws: { error in
            guard let error = error as? OperatorError else { return false }
            return error.status == .usage && error.problem.contains("gpg slot \(slot.id.prefix(8))") && error.problem.contains(fingerprint)
        }
        // With a GPG slot present, the passphrase slot may go: GPG is portable.
        let passphraseSlot = try await KeyRing.slots(backend: repository.backend).first { $0.kind == .passphrase }!
        try await repository.removeSlot(passphraseSlot.id)
        #expect(try await KeyRing.slots(backend: repository.backend).map(\.kind) == [.gpg])
    }

    @Test("a GPG slot for a key the keyring does not hold is refused as bad input")
    func gpgUnknownKey() async throws {
        let home = try Self.environment("VALKYRIE_TEST_GNUPGHOME")
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        await #expect { try await repository.addSlot(.gpg(fingerprint: String(repeating: "AB", count: 20), homeDirectory: home), label: "x") } throws: { error in
            (error as? OperatorError)?.status == .usage
        }
    }

    @Test("a TPM slot opens the repository through swtpm; a blob the TPM cannot unseal is exit 2 naming the slot")
    func tpmSlot() async throws {
        let tcti = try Self.environment("VALKYRIE_TEST_TPM_TCTI")
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let slot = try await repository.addSlot(.tpm(tcti: tcti), label: "host")
        let opened = try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.tpm(tcti: tcti)])
        #expect(opened.config.id == repository.config.id)

        // The sealed object's private area changed: its integrity check fails and the TPM refuses to load it.
        var damaged = slot
        damaged.tpmPrivate![damaged.tpmPrivate!.count / 2] ^= 0x01
        try await LocalBackend(path: scratch.path).put(slot.name, try JSONFormat.encoder().encode(damaged))
        await #expect { try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.tpm(tcti: tcti)]) } throws: { error in
            guard let error = error as? OperatorError else { return false }
            return error.status == .usage && error.problem.contains("tpm slot \(slot.id.prefix(8))")
        }
    }

    @Test("a TPM-only repository is refused: not as the first slot, and not by removing the last portable slot")
    func tpmOnlyRefused() async throws {
        let tcti = try Self.environment("VALKYRIE_TEST_TPM_TCTI")
        let scratch = Scratch()
        await #expect { try await Repository.initialize(backend: LocalBackend(path: scratch.sub("a")), slot: .tpm(tcti: tcti), label: "x") } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("TPM slot only")
        }
        let repository = try await Fixture.repository(scratch.sub("b"))
        try await repository.addSlot(.tpm(tcti: tcti), label: "host")
        let passphrase = try await KeyRing.slots(backend: repository.backend).first { $0.kind == .passphrase }!
        await #expect { try await repository.removeSlot(passphrase.id) } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("last portable slot")
        }
    }
}
