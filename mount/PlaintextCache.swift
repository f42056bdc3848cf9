import Foundation
import Sodium
import Synchronization

/// Decrypted vault bodies, bounded by their total size; least recently used go first, and every byte is
/// overwritten when an entry leaves (eviction or `wipe()` at unmount).
final class PlaintextCache: Sendable {
    private struct State {
        var entries: [String: (data: Data, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    subscript(key: String) -> Data? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key]!.used = state.clock
            return entry.data
        }
    }

    /// Keeps `data` if it fits; larger bodies live only as long as the open file that decrypted them.
    func insert(_ data: Data, for key: String) {
        guard data.count <= capacity else { return }
        state.withLock { state in
            guard state.entries[key] == nil else { return }
            while state.bytes + data.count > capacity,
                  let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                var evicted = state.entries.removeValue(forKey: oldest.key)!.data
                state.bytes -= evicted.count
                Sodium.wipe(&evicted)
            }
            state.clock += 1
            state.entries[key] = (data, state.clock)
            state.bytes += data.count
        }
    }

    func wipe() {
        state.withLock { state in
            for key in Array(state.entries.keys) {
                var data = state.entries.removeValue(forKey: key)!.data
                Sodium.wipe(&data)
            }
            state = State()
        }
    }
}
