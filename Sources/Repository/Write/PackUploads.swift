import Synchronization

/// Closed packs being written in the background, so chunking, hashing and encryption go on while the backend
/// writes and fsyncs the previous pack. Besides the newest, at most `depth` uploads run (0: a new pack's writer
/// waits for the one before it, which had the whole time the new pack took to fill); a writer that submits more
/// waits for the oldest. The first failure is rethrown to the next `submit` or `drain`, so a backup whose
/// pack did not land fails rather than naming it in an index.
final class PackUploads: Sendable {
    private let depth: Int
    private let running = Mutex([Task<Void, Error>]())

    init(depth: Int) {
        precondition(depth >= 0)
        self.depth = depth
    }

    /// Starts `upload`; returns once no more than `depth` earlier uploads are still running.
    func submit(_ upload: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await upload() }
        var oldest: [Task<Void, Error>] = []
        running.withLock { running in
            running.append(task)
            while running.count > depth + 1 { oldest.append(running.removeFirst()) }
        }
        try await Self.await(oldest)
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
