import Foundation
import Mount
import Support
import Synchronization

/// A `MountSession` of a lab set served on a thread of its own, unmounted the way an operator does
/// (`fusermount3 -u`).
final class TestMount: Sendable {
    let path: String
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<Void, any Error>?>(nil)
    private let lines = Mutex<[String]>([])

    var log: [String] { lines.withLock { $0 } }

    private init(path: String) { self.path = path }

    static func start(_ lab: LabSet, keys: VaultKeySource = .none, allowOther: Bool = false) async throws -> TestMount {
        let path = "\(lab.folder)/mnt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = TestMount(path: path)
        let ready = DispatchSemaphore(value: 0)
        let catalog = lab.catalog, repository = lab.repository
        Thread.detachNewThread {
            let result = Result {
                try MountSession.serve(catalog: catalog, repository: repository, at: path,
                                       options: .init(allowOther: allowOther, keys: keys, plaintextCacheBytes: 64 << 20),
                                       handleSignals: false, log: { line in mount.lines.withLock { $0.append(line) } },
                                       ready: { ready.signal() })
            }
            mount.outcome.withLock { $0 = result }
            ready.signal()
            mount.finished.signal()
        }
        try await onThread { ready.wait() }
        if let failure = mount.outcome.withLock({ $0 }), case let .failure(error) = failure { throw error }
        return mount
    }

    /// Unmounts and waits for the session to end (keys wiped, summary event recorded).
    func stop() async throws {
        try Subprocess.check("fusermount3", ["-u", path])
        let finished = self.finished
        try await onThread { finished.wait() }
        try outcome.withLock { $0 }?.get()
    }

    /// Runs `body` with the mount, stopping it afterwards even when `body` throws.
    static func with(_ lab: LabSet, keys: VaultKeySource = .none, allowOther: Bool = false,
                     _ body: (TestMount) async throws -> Void) async throws {
        let mount = try await start(lab, keys: keys, allowOther: allowOther)
        do { try await body(mount) } catch {
            try? await mount.stop()
            throw error
        }
        try await mount.stop()
    }
}

/// Runs a shell script (paths quoted by the caller).
@discardableResult
func sh(_ script: String) throws -> Subprocess.Result { try Subprocess.run("sh", ["-c", script]) }
