import Foundation
import Repository
import Sodium
import Support
import Synchronization
import Vaulthalla

/// BLAKE2b-256 of the vault bodies, taken while the `var/lib/vaulthalla` walk reads them, so the coherence check
/// compares the bytes that went into the set without reading every body a second time.
///
/// Every file the walk reads is hashed, up to `limit`: nearly all of them are bodies, and hashing the few that
/// are not costs less than asking the database which ones are bodies before the walk may start.
final class BodyHashes: Sendable {
    /// The hashes taken, by path key (relative to the data directory; ~100 bytes a body, where the paths themselves
    /// cost ~600), and how many files were handed an observer.
    private let state = Mutex(State())

    private struct State {
        var hashes: [PathKey: (size: Int64, hex: String)] = [:]
        var observed = 0
    }

    init() {}

    /// Past this many files the path keys and hashes kept here (~100 bytes a body) would outweigh reading the
    /// bodies again: the files read after that are not hashed, the coherence check reads them itself, and memory
    /// stays flat however big the host.
    static let limit = 100_000

    /// An observer for the file at `relative`, until `limit` files have had one.
    func observer(for relative: String) -> (any ReadObserver)? {
        let granted = state.withLock { state in
            guard state.observed < Self.limit else { return false }
            state.observed += 1
            return true
        }
        return granted ? BodyHasher(path: PathKey(relative), into: self) : nil
    }

    /// The size read and the hex hash of a body the walk read to its end.
    func read(_ backingPath: String) -> (size: Int64, hex: String)? {
        state.withLock { $0.hashes[PathKey(backingPath)] }
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
            owner.state.withLock { $0.hashes[path] = (size, hex) }
        }
    }
}
