import Foundation
import Support

/// The key slots of a repository: list, open, add, remove, and the rule that a portable slot (passphrase or GPG)
/// must remain.
public enum KeyRing {
    /// Every slot, readable without any key.
    public static func slots(backend: any Backend) async throws -> [KeySlot] {
        var slots: [KeySlot] = []
        for object in try await backend.list(prefix: "keys/") {
            let data = try await backend.get(object.name)
            guard let slot = try? JSONFormat.decoder().decode(KeySlot.self, from: data) else {
                throw OperatorError.failed("\(backend.location): key slot \(object.name) is not readable",
                                           remedy: "remove it with `valkyrie key remove` after opening with another slot")
            }
            slots.append(slot)
        }
        return slots.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    /// The master key from the first of `slots` (the repository's at `location`) that one of `unlock` opens. When
    /// none does, the error names every slot tried (exit 2).
    /// `accepts` checks a key against the repository's config, so that a slot left over from an interrupted
    /// `init` (which holds another key) is passed over.
    static func openMasterKey(slots: [KeySlot], location: String, unlock: [Unlock], accepts: (MasterKey) -> Bool) throws -> MasterKey {
        guard !slots.isEmpty else {
            throw OperatorError.failed("\(location) has no key slots", remedy: "the repository cannot be opened")
        }
        var failures: [OperatorError] = []
        for method in unlock {
            for slot in slots where slot.kind == method.kind {
                do {
                    let key = try method.open(slot)
                    if accepts(key) { return key }
                    failures.append(.failed("\(slot.title) holds a key that does not open this repository's config",
                                            remedy: "remove that slot with `valkyrie key remove`"))
                } catch let error as OperatorError {
                    failures.append(error)
                }
            }
        }
        if failures.count == 1 { throw failures[0] }
        if !failures.isEmpty {
            throw OperatorError.badInput(failures.map(\.problem).joined(separator: "; "),
                                         remedy: failures.first?.remedy)
        }
        let kinds = Set(slots.map(\.kind.rawValue)).sorted().joined(separator: ", ")
        throw OperatorError.badInput("no credential was given for the slots of \(location) (\(kinds))",
                                     remedy: "set $VALKYRIE_PASSWORD or --password-file, give a key file, or use a GPG or TPM slot")
    }

    /// A repository whose slots would all be bound to the host (TPM, key file) is refused.
    public static func hostBoundOnly(_ location: String, _ kind: KeySlot.Kind) -> OperatorError {
        OperatorError.badInput(kind == .tpm ? "\(location) would be protected by a TPM slot only, which dies with the host"
                                            : "\(location) would be protected by a key-file slot only, which stays on the host",
                               remedy: "add a passphrase or GPG slot first")
    }
}

extension Repository {
    /// Adds a key slot for this repository's master key.
    @discardableResult
    public func addSlot(_ slot: NewKeySlot, label: String) async throws -> KeySlot {
        let existing = try await KeyRing.slots(backend: backend)
        if !slot.kind.isPortable && !existing.contains(where: \.kind.isPortable) {
            throw KeyRing.hostBoundOnly(backend.location, slot.kind)
        }
        let made = try slot.make(for: key, label: label)
        try await store(slot: made)
        return made
    }

    /// Removes the slot whose id starts with `id`; refuses to remove the last portable slot.
    @discardableResult
    public func removeSlot(_ id: String) async throws -> KeySlot {
        let slots = try await KeyRing.slots(backend: backend)
        let matches = slots.filter { $0.id.hasPrefix(id.lowercased()) }
        guard matches.count == 1, let slot = matches.first, !id.isEmpty else {
            throw OperatorError.badInput(matches.isEmpty ? "\(backend.location) has no key slot \(id)"
                                                         : "key slot id \(id) is ambiguous",
                                         remedy: "see `valkyrie key list` for slot ids")
        }
        if slot.kind.isPortable && !slots.contains(where: { $0.id != slot.id && $0.kind.isPortable }) {
            throw OperatorError.badInput("\(slot.title) is the last portable slot of \(backend.location)",
                                         remedy: "add another passphrase or GPG slot before removing it")
        }
        try await backend.delete(slot.name)
        return slot
    }

    func store(slot: KeySlot) async throws {
        try await backend.put(slot.name, try JSONFormat.encoder(pretty: true).encode(slot))
    }
}
