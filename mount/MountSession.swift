import Catalog
import FUSE
import Foundation
import Repository
import Support

/// One `valkyrie mount`: checks the mountpoint, mounts, serves until unmounted or signalled, then wipes the
/// keys and records the plaintext-read summary.
public enum MountSession {
    public struct Options: Sendable {
        public var allowOther = false
        public var keys: VaultKeySource = .none
        /// Bound of the decrypted vault bodies kept (the repository's blob cache has its own, set at open).
        public var plaintextCacheBytes = 256 << 20
        public var threads = 8

        public init(allowOther: Bool = false, keys: VaultKeySource = .none, plaintextCacheBytes: Int = 256 << 20, threads: Int = 8) {
            self.allowOther = allowOther; self.keys = keys; self.plaintextCacheBytes = plaintextCacheBytes; self.threads = threads
        }
    }

    /// Serves the catalog at `mountpoint` until it is unmounted; `ready` runs once the mount is in place.
    /// Blocks its thread: call it from a thread of its own, not from a task.
    public static func serve(catalog: Catalog, repository: Repository, at mountpoint: String, options: Options,
                             handleSignals: Bool, log: @escaping @Sendable (String) -> Void,
                             ready: () -> Void = {}) throws {
        try Mountpoint.check(mountpoint)
        let filesystem = try MountFilesystem(catalog: catalog, repository: repository, keys: options.keys,
                                             mountpoint: mountpoint, plaintextCacheBytes: options.plaintextCacheBytes, log: log)
        let mount = try FUSEMount(filesystem, at: mountpoint, options: .init(allowOther: options.allowOther))
        ready()
        let served = Result { try mount.run(threads: options.threads, handleSignals: handleSignals, log: log) }
        try filesystem.finish()
        try served.get()
    }
}
