import Foundation

/// Directory listings held between `opendir` and `releasedir`, so paged `readdir` calls see one snapshot.
final class HandleTable<Value>: @unchecked Sendable {
    private var values: [UInt64: Value] = [:]
    private var next: UInt64 = 1
    private let lock = NSLock()

    func insert(_ value: Value) -> UInt64 {
        lock.withLock {
            let handle = next
            next += 1
            values[handle] = value
            return handle
        }
    }

    subscript(handle: UInt64) -> Value? {
        lock.withLock { values[handle] }
    }

    func remove(_ handle: UInt64) {
        lock.withLock { _ = values.removeValue(forKey: handle) }
    }
}
