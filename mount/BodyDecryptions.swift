import Foundation
import Synchronization

/// One decryption of a vault body at a time: opens of the same file that arrive while it is being decrypted wait
/// for that result instead of each reading and holding another copy of the whole body (eight readers of a large
/// file would otherwise hold eight).
final class BodyDecryptions: Sendable {
    private final class Job: Sendable {
        let done = DispatchGroup()
        let result = Mutex<Result<Data, any Error>?>(nil)
    }

    private let jobs = Mutex<[String: Job]>([:])

    /// `decrypt`'s result for `body`, run by the first caller; the others wait for it and share it (or its error).
    func run(_ body: String, _ decrypt: () throws -> Data) throws -> Data {
        let (job, first) = jobs.withLock { table -> (Job, Bool) in
            if let running = table[body] { return (running, false) }
            let job = Job()
            job.done.enter()
            table[body] = job
            return (job, true)
        }
        guard first else {
            job.done.wait()
            return try job.result.withLock { $0! }.get()
        }
        let result = Result { try decrypt() }
        job.result.withLock { $0 = result }
        jobs.withLock { _ = $0.removeValue(forKey: body) }
        job.done.leave()
        return try result.get()
    }
}
