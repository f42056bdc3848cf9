import Foundation
import Repository
import Sodium
import Support
import Synchronization
import Vaulthalla

/// BLAKE2b-256 of the vault bodies, taken while the `var/lib/vaulthalla` walk reads them, so the coherence check
/// compares the bytes that went into the set without reading every body a second time.
final class BodyHashes: Sendable {
    /// Backing paths (relative to the data directory) whose hash the coherence check will want, and the hashes
    /// taken, by path key: a body costs ~100 bytes here, where the paths themselves cost ~600.
    private let wanted: Set<PathKey>
    private let hashes = Mutex([PathKey: (size: Int64, hex: String)]())

    init(wanted: Set<PathKey>) {
        self.wanted = wanted
    }

    /// Past this many bodies the path keys and hashes kept here (~100 bytes a body) would outweigh reading
    /// the bodies again: the coherence check then reads them itself, and memory stays flat however big the host.
    static let limit = 100_000

    /// The backing paths of bodies with an expected hash, vault by vault, `lines` handing over a vault's lines a
    /// batch at a time; none past `limit` (reading stops there).
    static func wanted<Vault>(_ vaults: [Vault], lines: (Vault, ([VaultIndexLine]) throws -> Void) throws -> Void) throws -> Set<PathKey> {
        var wanted = Set<PathKey>()
        do {
            for vault in vaults {
                try lines(vault) { batch in
                    for line in batch where !(line.contentHash ?? "").isEmpty { wanted.insert(PathKey(line.backingPath)) }
                    if wanted.count > limit { throw PastLimit() }
                }
            }
        } catch is PastLimit {
            return []
        }
        return wanted
    }

    /// Ends reading the vault index once more bodies are wanted than `limit`.
    private struct PastLimit: Error {}

    /// An observer for the file at `relative` when it is a wanted body.
    func observer(for relative: String) -> (any ReadObserver)? {
        let key = PathKey(relative)
        return wanted.contains(key) ? BodyHasher(path: key, into: self) : nil
    }

    /// The size read and the hex hash of a body the walk read to its end.
    func read(_ backingPath: String) -> (size: Int64, hex: String)? {
        hashes.withLock { $0[PathKey(backingPath)] }
    }

    private final class BodyHasher: ReadObserver {
        let path: PathKey
        let owner: BodyHashes
        private let state = Mutex(Blake2b256())

        init(path: PathKey, into owner: BodyHashes) {
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
