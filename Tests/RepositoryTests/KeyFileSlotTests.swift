import Foundation
@testable import Repository
import Sodium
import Support
import Testing

@Suite struct KeyFileSlotTests {
    @Test("the KEK is keyed BLAKE2b-256 of the key file's secret, the slot's salt and the fixed personalisation")
    func derivationVector() throws {
        // Pinned once; the same value from CPython's hashlib.blake2b(b"", key=bytes(range(32)),
        // salt=bytes(range(100, 116)), person=b"valkyrie keyfile", digest_size=32).
        let kek = try KeyFile(secret: Data(0..<32)).kek(salt: Data(100..<116))
        #expect(kek.hexString == "3543ea78e9f1e8795678afb8b86f956ac4abd08d8430a72e614dd916ed69cb3a")
    }

    @Test("a new key file is 64 hex digits and a newline, mode 0600, never overwritten; it opens its slot")
    func createAndOpen() async throws {
        let scratch = Scratch()
        let path = "\(scratch.path)/repo.key"
        let created = try KeyFile.create(path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.count == 65 && text.hasSuffix("\n") && text.dropLast().allSatisfy { "0123456789abcdef".contains($0) })
        #expect(text.dropLast() == Substring(created.secret.hexString))
        #expect(throws: OperatorError.self) { try KeyFile.create(path) } // O_EXCL: an existing key file stays
        #expect(try KeyFile.readOrCreate(path).secret == created.secret)

        let repository = try await Fixture.repository(scratch.sub("repo"))
        let slot = try await repository.addSlot(.keyFile(created), label: "host")
        #expect(slot.kind == .keyfile && slot.salt?.count == 16 && slot.cost == nil)
        let opened = try await Repository.open(backend: LocalBackend(path: scratch.sub("repo")),
                                               unlock: [.keyFile(try KeyFile.read(path), path: path)])
        #expect(opened.config.id == repository.config.id && opened.key.bytes == repository.key.bytes)
    }

    @Test("a wrong key file is bad input naming the slot it tried, and carries no key bytes")
    func wrongKeyFile() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let slot = try await repository.addSlot(.keyFile(try KeyFile.create("\(scratch.path)/right.key")), label: "host")
        let wrongPath = "\(scratch.path)/wrong.key"
        let wrong = try KeyFile.create(wrongPath)
        do {
            _ = try await Repository.open(backend: LocalBackend(path: scratch.sub("repo")), unlock: [.keyFile(wrong, path: wrongPath)])
            Issue.record("opened with a wrong key file")
        } catch let error as OperatorError {
            #expect(error.status == .usage)
            #expect(error.problem.contains("keyfile slot \(slot.id.prefix(8))") && error.problem.contains(wrongPath))
            #expect(!"\(error)".contains(wrong.secret.hexString))
        }
        // A key file that fails still lets the next credential open the repository.
        let opened = try await Repository.open(backend: LocalBackend(path: scratch.sub("repo")),
                                               unlock: [.keyFile(wrong, path: wrongPath), .passphrase(Fixture.passphrase)])
        #expect(opened.config.id == repository.config.id)
    }

    @Test("a key file that is missing, malformed, or open to group or others is refused without echoing it")
    func badFilesRefused() throws {
        let scratch = Scratch()
        let secretText = String(repeating: "ab", count: 32)
        let cases: [(name: String, contents: String, mode: Int, says: String)] = [
            ("group.key", secretText + "\n", 0o640, "open to group or others"),
            ("other.key", secretText + "\n", 0o604, "open to group or others"),
            ("short.key", String(secretText.dropLast(2)) + "\n", 0o600, "not a Valkyrie key file"),
            ("long.key", secretText + "ab\n", 0o600, "not a Valkyrie key file"),
            ("nothex.key", String(secretText.dropLast()) + "g\n", 0o600, "not a Valkyrie key file"),
            ("twolines.key", secretText + "\n\n", 0o600, "not a Valkyrie key file"),
        ]
        for item in cases {
            let path = "\(scratch.path)/\(item.name)"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(item.contents.utf8),
                                                   attributes: [.posixPermissions: item.mode]))
            try FileManager.default.setAttributes([.posixPermissions: item.mode], ofItemAtPath: path) // past the umask
            #expect { try KeyFile.read(path) } throws: { error in
                guard let error = error as? OperatorError else { return false }
                return error.status == .usage && error.problem.contains(item.says) && error.problem.contains(path)
                    && !"\(error)".contains(secretText.prefix(16))
            }
        }
        #expect { try KeyFile.read("\(scratch.path)/missing.key") } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("does not exist")
        }
        // Upper-case hex and a missing final newline are the same secret.
        let upper = "\(scratch.path)/upper.key"
        _ = FileManager.default.createFile(atPath: upper, contents: Data(secretText.uppercased().utf8), attributes: [.posixPermissions: 0o600])
        #expect(try KeyFile.read(upper).secret == Data(repeating: 0xab, count: 32))
    }

    @Test("a key-file slot's envelope round-trips through JSON and names its kind `keyfile`")
    func jsonRoundTrip() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let added = try await repository.addSlot(.keyFile(try KeyFile.create("\(scratch.path)/k.key")), label: "host")
        // As stored (dates at JSON's precision), then encoded and decoded again: the same slot.
        let slot = try #require(try await KeyRing.slots(backend: repository.backend).first { $0.id == added.id })
        #expect(slot.kind == .keyfile && slot.salt == added.salt && slot.wrapped == added.wrapped)
        let encoded = try JSONFormat.encoder(pretty: true).encode(slot)
        #expect(try JSONFormat.decoder().decode(KeySlot.self, from: encoded) == slot)
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["kind"] as? String == "keyfile" && object["salt"] != nil && object["cost"] == nil)
    }

    @Test("a key-file slot is not portable: not the first slot, and the last passphrase slot stays")
    func notPortable() async throws {
        let scratch = Scratch()
        await #expect {
            try await Repository.initialize(backend: LocalBackend(path: scratch.sub("a")),
                                            slot: .keyFile(try KeyFile.create("\(scratch.path)/a.key")), label: "x")
        } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("key-file slot only")
        }
        let repository = try await Fixture.repository(scratch.sub("b"))
        let keySlot = try await repository.addSlot(.keyFile(try KeyFile.create("\(scratch.path)/b.key")), label: "host")
        let passphrase = try await KeyRing.slots(backend: repository.backend).first { $0.kind == .passphrase }!
        await #expect { try await repository.removeSlot(passphrase.id) } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("last portable slot")
        }
        // The key-file slot itself may go.
        #expect(try await repository.removeSlot(keySlot.id).id == keySlot.id)
    }
}
