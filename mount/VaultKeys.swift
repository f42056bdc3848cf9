import Foundation
import GPG
import Sodium
import Support
import Synchronization
import Vaulthalla

/// Where vault keys come from for `vaults/`.
public enum VaultKeySource: Sendable {
    /// Locked: names and sizes show, reads are refused.
    case none
    /// Each set's own `exports/vault-keys.json.asc`, decrypted in memory with the operator's GPG secret key.
    case gpg(homeDirectory: String?)
    /// A plaintext `vh vault keys export` document, used for every set.
    case export(Data)
}

/// Vault keyrings by set and vault name, held in memory only and wiped by `wipe()` at unmount.
final class VaultKeyStore: Sendable {
    private struct State {
        var bySet: [UUID: [String: VaultKeyring]] = [:]
        var fromFile: [String: VaultKeyring] = [:]
    }

    let source: VaultKeySource
    private let state = Mutex(State())

    /// Parses a plaintext export at once, so a bad `--keys` file fails the mount rather than every read.
    init(_ source: VaultKeySource) throws {
        var rings: [String: VaultKeyring] = [:]
        if case let .export(data) = source {
            rings = try Self.keyrings(VaultKeyExport.parse(data))
            self.source = .export(Data())
        } else {
            self.source = source
        }
        state.withLock { $0.fromFile = rings }
    }

    var isLocked: Bool {
        if case .none = source { return true }
        return false
    }

    /// The keyring of `vault` for set `set`; `encryptedExport` yields the set's armored key export.
    func keyring(vault: String, set: UUID, encryptedExport: () throws -> Data) throws -> VaultKeyring? {
        switch source {
        case .none:
            return nil
        case .export:
            return state.withLock { $0.fromFile[vault] }
        case let .gpg(home):
            if let rings = state.withLock({ $0.bySet[set] }) { return rings[vault] }
            var plain = try GPGContext(homeDirectory: home).decrypt(try encryptedExport())
            defer { Sodium.wipe(&plain) }
            let rings = try Self.keyrings(VaultKeyExport.parse(plain))
            state.withLock { $0.bySet[set] = rings }
            return rings[vault]
        }
    }

    /// Overwrites every key byte held and forgets the keyrings.
    func wipe() {
        // In place: a copy would share the key buffers and be wiped instead of them.
        state.withLock { state in
            for set in Array(state.bySet.keys) {
                for vault in Array(state.bySet[set]!.keys) { Self.wipe(&state.bySet[set]![vault]!) }
            }
            for vault in Array(state.fromFile.keys) { Self.wipe(&state.fromFile[vault]!) }
            state = State()
        }
    }

    private static func wipe(_ ring: inout VaultKeyring) {
        for version in Array(ring.keys.keys) {
            var key = ring.keys.removeValue(forKey: version)!
            Sodium.wipe(&key)
        }
    }

    /// Every key version of each vault the export holds (an export may list a vault more than once).
    static func keyrings(_ exports: [VaultKeyExport]) throws -> [String: VaultKeyring] {
        var rings: [String: VaultKeyring] = [:]
        for export in exports {
            var ring = rings[export.vaultName] ?? VaultKeyring(vaultID: export.vaultID, keys: [:], currentVersion: 0)
            ring.keys[export.keyInfo.keyVersion] = try export.keyBytes()
            ring.currentVersion = max(ring.currentVersion, export.keyInfo.keyVersion)
            rings[export.vaultName] = ring
        }
        return rings
    }
}
