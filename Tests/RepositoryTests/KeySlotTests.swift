import Foundation
@testable import Repository
import Sodium
import Support
import Testing

@Suite struct KeySlotTests {
    @Test("a wrong passphrase is bad input (exit 2) naming the slot it tried")
    func wrongPassphrase() async throws {
        let scratch = Scratch()
        _ = try await Fixture.repository(scratch.path)
        let slot = try await KeyRing.slots(backend: LocalBackend(path: scratch.path))[0]
        do {
            _ = try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.passphrase(Data("wrong".utf8))])
            Issue.record("opened with a wrong passphrase")
        } catch let error as OperatorError {
            #expect(error.status == .usage)
            #expect(error.problem.contains("passphrase slot \(slot.id.prefix(8))"))
            #expect(error.problem.contains("\"test\""))
        }
    }

    @Test("no credential at all is bad input naming the slot kinds")
    func noCredential() async throws {
        let scratch = Scratch()
        _ = try await Fixture.repository(scratch.path)
        await #expect { try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: []) } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("passphrase")
        }
    }

    @Test("a second passphrase slot opens the same repository; removing the first leaves the second working")
    func addAndRemove() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let first = try await KeyRing.slots(backend: repository.backend)[0]
        let second = try await repository.addSlot(.passphrase(Data("second".utf8), cost: .interactive), label: "ops")
        #expect(try await KeyRing.slots(backend: repository.backend).map(\.id) == [first.id, second.id])
        try await repository.removeSlot(String(first.id.prefix(8)))
        let reopened = try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.passphrase(Data("second".utf8))])
        #expect(reopened.config.id == repository.config.id)
        await #expect(throws: OperatorError.self) {
            try await Repository.open(backend: LocalBackend(path: scratch.path), unlock: [.passphrase(Fixture.passphrase)])
        }
    }

    @Test("the last portable slot cannot be removed; an unknown slot id is bad input")
    func lastPortable() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let only = try await KeyRing.slots(backend: repository.backend)[0]
        await #expect { try await repository.removeSlot(only.id) } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("last portable slot")
        }
        await #expect { try await repository.removeSlot("ffffffff") } throws: { error in
            (error as? OperatorError)?.status == .usage
        }
        #expect(try await KeyRing.slots(backend: repository.backend).count == 1)
    }

    @Test("init refuses a location that already holds a repository")
    func initTwice() async throws {
        let scratch = Scratch()
        _ = try await Fixture.repository(scratch.path)
        await #expect { try await Fixture.repository(scratch.path) } throws: { error in
            (error as? OperatorError)?.status == .usage && "\(error)".contains("already holds a repository")
        }
    }

    @Test("a key slot file holds no master key material in the clear")
    func slotHoldsNoKey() async throws {
        let scratch = Scratch()
        let repository = try await Fixture.repository(scratch.path)
        let slotFile = try #require(Fixture.files(under: "\(scratch.path)/keys").first)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: slotFile))
        let master = repository.key.bytes
        for part in [master.prefix(32), master.dropFirst(32).prefix(32), master.suffix(32)] {
            #expect(bytes.range(of: part) == nil && bytes.range(of: Data(part).base64EncodedData()) == nil)
        }
    }

    @Test("a slot left by an interrupted init (another key, same passphrase) is passed over when opening")
    func leftoverSlotFromInterruptedInit() async throws {
        let scratch = Scratch()
        // An init that died after writing its slot but before its config: a slot with a key nobody uses.
        let stray = try NewKeySlot.passphrase(Fixture.passphrase, cost: .interactive).make(for: .generate(), label: "stray")
        try await LocalBackend(path: scratch.path).put(stray.name, try JSONFormat.encoder().encode(stray))
        let repository = try await Fixture.repository(scratch.path)
        for _ in 0..<3 {
            let reopened = try await Fixture.reopen(scratch.path)
            #expect(reopened.config.id == repository.config.id)
        }
    }

    @Test("a new passphrase slot stores RFC 9106's second recommended cost (3 passes, 64 MiB) and opens with it")
    func defaultCost() async throws {
        let slot = try NewKeySlot.passphrase(Fixture.passphrase).make(for: .generate(), label: "default")
        #expect(slot.cost == Sodium.Argon2Cost(opsLimit: 3, memLimit: 64 * 1024 * 1024))
        _ = try Unlock.passphrase(Fixture.passphrase).open(slot)
    }
}
