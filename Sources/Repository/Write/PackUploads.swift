import Synchronization

/// Closed packs being written in the background, so chunking, hashing and encryption go on while the backend
/// writes and fsyncs the previous pack. Before starting another, a writer waits until at most `depth` uploads
/// run (0: one at a time; the one before had the whole time the new pack took to fill). The first failure is
/// rethrown to the next `submit` or `drain`, so a backup whose pack did not land fails rather than naming it in
/// an index.
final class PackUploads: Sendable {
    private let depth: Int
    private let running = Mutex([Task<Void, Error>]())

    init(depth: Int) {
        precondition(depth >= 0)
        self.depth = depth
    }

    /// Waits for the oldest uploads beyond `depth`, then starts `upload`.
    func submit(_ upload: @escaping @Sendable () async throws -> Void) async throws {
        let oldest = running.withLock { running in
            let count = max(0, running.count - depth)
            defer { running.removeFirst(count) }
            return Array(running.prefix(count))
        }
        try await Self.await(oldest)
        let task = Task { try await upload() }
        running.withLock { $0.append(task) }
    }

    /// Waits for every upload started so far; rethrows the first failure after all have ended.
    func drain() async throws {
        let all = running.withLock { running in
            defer { running = [] }
            return running
        }
        try await Self.await(all)
    }

    private static func await(_ tasks: [Task<Void, Error>]) async throws {
        var failure: Error?
        for task in tasks {
            do { try await task.value } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}
