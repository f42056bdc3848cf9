import Foundation

/// Runs blocking work (child processes, gpgme) on a thread of its own, so the cooperative pool's threads (one per
/// core) keep chunking and encrypting meanwhile.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
