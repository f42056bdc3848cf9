import Foundation
import Synchronization

/// Recently read blobs, bounded by their total size; the least recently used go first.
final class BlobCache: Sendable {
    private struct State {
        var entries: [BlobID: (data: Data, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    subscript(id: BlobID) -> Data? {
        get {
            state.withLock { state in
                guard let entry = state.entries[id] else { return nil }
                state.clock += 1
                state.entries[id] = (entry.data, state.clock)
                return entry.data
            }
        }
        set {
            guard let data = newValue, data.count <= capacity / 4 else { return }
            state.withLock { state in
                guard state.entries[id] == nil else { return }
                while state.bytes + data.count > capacity,
                      let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                    state.entries[oldest.key] = nil
                    state.bytes -= oldest.value.data.count
                }
                state.clock += 1
                state.entries[id] = (data, state.clock)
                state.bytes += data.count
            }
        }
    }
}
