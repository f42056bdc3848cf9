import Foundation
import Synchronization

/// Counters of a running backup (items, files, bytes), read by the progress display.
public final class CaptureProgress: Sendable {
    public struct State: Sendable {
        public var items = 0
        public var itemsTotal = 0
        public var currentItem = ""
        public var files = 0
        public var bytes: Int64 = 0
        public var started = Date()
    }

    private let state = Mutex(State())
    private let observer: (@Sendable (State) -> Void)?

    public init(observer: (@Sendable (State) -> Void)? = nil) {
        self.observer = observer
    }

    public func snapshot() -> State { state.withLock { $0 } }

    func add(files: Int = 0, bytes: Int64) {
        notify(state.withLock { $0.files += files; $0.bytes += bytes; return $0 })
    }

    func begin(item: String, total: Int) {
        notify(state.withLock { $0.currentItem = item; $0.itemsTotal = total; return $0 })
    }

    func finishItem() {
        notify(state.withLock { $0.items += 1; return $0 })
    }

    private func notify(_ snapshot: State) { observer?(snapshot) }
}
