import Foundation
import Synchronization

/// Byte buffers kept in memory up to a total size; the least recently used leave first, each through `evict`
/// (which may wipe it). Used for decoded repository blobs and for the mount's decrypted vault bodies.
public final class SizeBoundedCache<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var entries: [Key: (data: Data, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let capacity: Int
    private let largestEntry: Int
    private let evict: @Sendable (inout Data) -> Void
    private let state = Mutex(State())

    /// `largestEntry`: values larger than this are not kept (default: the whole capacity).
    public init(capacity: Int, largestEntry: Int? = nil, evict: @escaping @Sendable (inout Data) -> Void = { _ in }) {
        self.capacity = capacity
        self.largestEntry = min(largestEntry ?? capacity, capacity)
        self.evict = evict
    }

    public subscript(key: Key) -> Data? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key]!.used = state.clock
            return entry.data
        }
    }

    /// Keeps `data` under `key` if it fits, making room by evicting the least recently used.
    public func insert(_ data: Data, for key: Key) {
        guard data.count <= largestEntry else { return }
        state.withLock { state in
            guard state.entries[key] == nil else { return }
            while state.bytes + data.count > capacity,
                  let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                var evicted = state.entries.removeValue(forKey: oldest.key)!.data
                state.bytes -= evicted.count
                evict(&evicted)
            }
            state.clock += 1
            state.entries[key] = (data, state.clock)
            state.bytes += data.count
        }
    }

    /// Evicts everything.
    public func removeAll() {
        state.withLock { state in
            for key in Array(state.entries.keys) {
                var data = state.entries.removeValue(forKey: key)!.data
                evict(&data)
            }
            state = State()
        }
    }
}
