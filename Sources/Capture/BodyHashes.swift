import Foundation
import Repository
import Sodium
import Support
import Synchronization
import Vaulthalla

/// BLAKE2b-256 of the vault bodies, taken while the `var/lib/vaulthalla` walk reads them, so the coherence check
/// compares the bytes that went into the set without reading every body a second time.
final class BodyHashes: Sendable {
    /// Backing paths (relative to the data directory) whose hash the coherence check will want.
    private let wanted: Set<String>
    private let hashes = Mutex([String: (size: Int64, hex: String)]())

    init(wanted: Set<String>) {
        self.wanted = wanted
    }

    /// Past this many bodies the paths and hashes kept here (a few hundred bytes a body) would outweigh reading
    /// the bodies again: the coherence check then reads them itself, and memory stays flat however big the host.
    static let limit = 100_000

    /// The backing paths of bodies with an expected hash, vault by vault (one vault's lines in memory at a time);
    /// none past `limit`.
    static func wanted<Vault>(_ vaults: [Vault], lines: (Vault) throws -> [VaultIndexLine]) throws -> Set<String> {
        var wanted = Set<String>()
        for vault in vaults {
            for line in try lines(vault) where !(line.contentHash ?? "").isEmpty { wanted.insert(line.backingPath) }
            if wanted.count > limit { return [] }
        }
        return wanted
    }

    /// An observer for the file at `relative` when it is a wanted body.
    func observer(for relative: String) -> (any ReadObserver)? {
        wanted.contains(relative) ? BodyHasher(path: relative, into: self) : nil
    }

    /// The size read and the hex hash of a body the walk read to its end.
    func read(_ backingPath: String) -> (size: Int64, hex: String)? {
        hashes.withLock { $0[backingPath] }
    }

    private final class BodyHasher: ReadObserver {
        let path: String
        let owner: BodyHashes
        private let state = Mutex(Blake2b256())

        init(path: String, into owner: BodyHashes) {
            self.path = path
            self.owner = owner
        }

        func update(_ bytes: ArraySlice<UInt8>) {
            state.withLock { $0.update(bytes) }
        }

        func finish(size: Int64) {
            let hex = state.withLock { $0.finalize() }.hexString
            owner.hashes.withLock { $0[path] = (size, hex) }
        }
    }
}
