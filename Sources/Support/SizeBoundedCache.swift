import Foundation
import Synchronization

/// Byte buffers kept in memory up to a total size; the least recently used leave first, each through `evict`
/// (which may wipe it). Used for decoded repository blobs and for the mount's decrypted vault bodies.
///
/// Recency is a queue of (key, use) stamps: a lookup appends a stamp, eviction pops stamps from the front and
/// skips those a later use made stale. A backup reads thousands of trees through the cache once each; finding
/// the oldest entry by scanning all of them made every insert into a full cache cost as much as the cache held.
public final class SizeBoundedCache<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var entries: [Key: (data: Data, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        /// Uses in order; `head` is the oldest not yet popped.
        var order: [(key: Key, used: UInt64)] = []
        var head = 0

        /// Marks `key` (present) as the most recently used.
        mutating func use(_ key: Key) {
            clock += 1
            entries[key]!.used = clock
            order.append((key, clock))
            // Stale stamps are dropped once they outnumber the live entries, so the queue stays within a
            // small multiple of the entry count.
            if order.count > 2 * entries.count + 64 { compact() }
        }

        /// Removes and returns the least recently used entry.
        mutating func popOldest() -> (key: Key, data: Data)? {
            while head < order.count {
                let (key, used) = order[head]
                head += 1
                if let entry = entries[key], entry.used == used {
                    entries[key] = nil
                    bytes -= entry.data.count
                    return (key, entry.data)
                }
            }
            return nil
        }

        private mutating func compact() {
            order = order[head...].filter { entries[$0.key]?.used == $0.used }
            head = 0
        }
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
            guard let data = state.entries[key]?.data else { return nil }
            state.use(key)
            return data
        }
    }

    /// Keeps `data` under `key` if it fits, making room by evicting the least recently used.
    public func insert(_ data: Data, for key: Key) {
        guard data.count <= largestEntry else { return }
        state.withLock { state in
            guard state.entries[key] == nil else { return }
            while state.bytes + data.count > capacity, var evicted = state.popOldest()?.data {
                evict(&evicted)
            }
            state.entries[key] = (data, 0)
            state.bytes += data.count
            state.use(key)
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
