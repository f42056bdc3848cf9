import Catalog
import Foundation
import Sodium
import Support
import Vaulthalla

/// Opens one vault's bodies for a restore, loading the vault's keys once: from the key export first, widened with
/// the host's earlier sets' exports (set exports only) when a body is on a version the export does not hold.
/// Every check of `VaultKeyring.open` applies before a plaintext byte is handed back.
struct VaultBodies {
    let source: SetSource
    let vault: String
    let keys: KeySource
    private var ring: VaultKeyring?
    private var origin = ""
    /// Every earlier set's export has been read into the ring; no point in reading them again.
    private var searchedEarlierSets = false

    init(_ source: SetSource, vault: String, keys: KeySource) {
        self.source = source
        self.vault = vault
        self.keys = keys
    }

    /// Opens the key export (once): its errors (no key opens it, it lacks the vault) concern every body.
    mutating func loadKeys() async throws {
        guard ring == nil else { return }
        let (entries, origin) = try await VaultKeys.entries(keys, set: source)
        ring = try VaultKeys.keyring(vault: vault, entries: entries, origin: origin)
        self.origin = origin
    }

    /// The plaintext of `entry`'s body. Errors name the vault file: `.failed` when the body does not verify (BLAKE2b,
    /// GCM tag or size), `.badInput` when it needs a key version no export at hand holds.
    mutating func open(_ entry: VaultEntry) async throws -> VaultKeyring.Opened {
        let place = "vault \(vault) \(entry.path) in set \(source.set.name)"
        let node = try await source.body(entry)
        let body = try await source.repository.read(node, offset: 0, length: Int(node.size))
        let encrypted = !(entry.iv ?? "").isEmpty
        if encrypted { try await loadKeys() }
        var ring = self.ring ?? VaultKeyring(vaultID: 0, keys: [:], currentVersion: 0)
        defer { self.ring = encrypted ? ring : self.ring }
        let file = VaulthallaDatabase.FileEntry(fsEntryID: 0, vaultID: ring.vaultID, logicalPath: entry.path,
                                                backingPath: entry.backingPath ?? "", sizeBytes: entry.size,
                                                contentHash: entry.contentHash, encryptionIV: entry.iv, keyVersion: entry.keyVersion)
        // Checked only when the body does not open: the success path hashes it once, in ring.open.
        let hashHolds = { entry.contentHash.map { ContentHash.hex(of: body) == $0 } ?? true }
        do {
            do { return try ring.open(file, body: body) } catch {
                // The earlier sets' exports (a GPG decryption each) are read only when the keys at hand open nothing
                // and the body is the recorded one: first until the recorded version turns up, then all of them. A
                // stale recorded version (the body on a key the export holds) so costs no extra export.
                guard encrypted, !searchedEarlierSets, hashHolds() else { throw error }
                let known = ring.keys.count
                if let recorded = entry.keyVersion, ring.keys[recorded] == nil {
                    try await VaultKeys.addOlderVersions(&ring, vault: vault, version: recorded, keys, set: source)
                    searchedEarlierSets = ring.keys[recorded] == nil
                    if !searchedEarlierSets, let opened = try? ring.open(file, body: body) { return opened }
                }
                if !searchedEarlierSets {
                    try await VaultKeys.addOlderVersions(&ring, vault: vault, version: nil, keys, set: source)
                    searchedEarlierSets = true
                }
                guard ring.keys.count > known else { throw error }
                return try ring.open(file, body: body)
            }
        } catch let error as OperatorError {
            if encrypted, let recorded = entry.keyVersion, ring.keys[recorded] == nil, hashHolds() {
                let held = ring.keys.keys.sorted().map(String.init).joined(separator: ", ")
                throw OperatorError.badInput(
                    "\(place) is on key version \(recorded), which \(origin) \(searchedEarlierSets ? "and the host's earlier sets' exports do" : "does") not hold (versions held: \(held))",
                    remedy: "pass an export holding version \(recorded) of vault \(vault) with --keys FILE (`vh vault keys export` from before that version was rotated out, or a copy kept with the host's secrets)")
            }
            throw OperatorError.failed("\(place): \(Self.stripPlace(error.problem, file))",
                                       remedy: error.remedy ?? "restore it from another set")
        }
    }

    /// Wipes every key held.
    mutating func wipe() {
        guard var ring else { return }
        self.ring = nil  // first, so the wipe below writes over the only copy rather than a copy-on-write one
        for version in Array(ring.keys.keys) { Sodium.wipe(&ring.keys[version]!) }
    }

    /// VaultKeyring names the vault by id and path; the caller names it by name, so drop the repeat.
    private static func stripPlace(_ problem: String, _ file: VaulthallaDatabase.FileEntry) -> String {
        let place = "vault \(file.vaultID) \(file.logicalPath): "
        return problem.hasPrefix(place) ? String(problem.dropFirst(place.count)) : problem
    }
}
