import Synchronization

/// Whose turn it is to hold a patch in memory. Making or rebuilding a patch holds its base and its file whole (up to
/// `SetWriter.patchLimit` each), and a backup makes the dump's beside the walks while it rebuilds the previous vault
/// index: one at a time in the process keeps the peak to one patch's worth.
final class PatchTurns: Sendable {
    static let shared = PatchTurns()

    private let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// Waits for the turn; the caller gives it back with `end()` on every path.
    func begin() async {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiting.append(turn)
                return false
            }
            if now { turn.resume() }
        }
    }

    /// Passes the turn to the longest waiting, if any.
    func end() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    /// `body`, run in a turn.
    func run<T>(_ body: () async throws -> T) async rethrows -> T {
        await begin()
        defer { end() }
        return try await body()
    }
}
