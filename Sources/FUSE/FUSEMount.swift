import CFUSE3
import Foundation
import Support

/// A read-only FUSE mount of a `ReadOnlyFilesystem`, served by libfuse's multi-threaded loop.
///
/// `init` mounts; `run` serves requests until the mount goes away (`unmount`, `fusermount3 -u`, or SIGINT /
/// SIGTERM / SIGHUP when `handleSignals` is set) and then unmounts cleanly.
public final class FUSEMount: @unchecked Sendable {
    public struct Options: Sendable {
        /// Let users other than the mounting one in (the kernel still checks modes: `default_permissions`).
        public var allowOther = false
        /// The name `mount` and /proc/mounts show.
        public var fsName = "valkyrie"

        public init(allowOther: Bool = false, fsName: String = "valkyrie") {
            self.allowOther = allowOther
            self.fsName = fsName
        }

        var mountOptions: String {
            (["ro", "default_permissions", "fsname=\(fsName)", "subtype=valkyrie"] + (allowOther ? ["allow_other"] : []))
                .joined(separator: ",")
        }
    }

    public let mountpoint: String
    private let session: OpaquePointer
    private let dispatcher: Dispatcher
    private let argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let argc: Int

    public init(_ filesystem: any ReadOnlyFilesystem, at mountpoint: String, options: Options = Options()) throws {
        self.mountpoint = mountpoint
        dispatcher = Dispatcher(filesystem: filesystem)
        let words = ["valkyrie", "-o", options.mountOptions]
        argc = words.count
        argv = .allocate(capacity: argc + 1)
        for (index, word) in words.enumerated() { argv[index] = strdup(word) }
        argv[argc] = nil
        var ops = Operations.table()
        var args = fuse_args(argc: Int32(argc), argv: argv, allocated: 0)
        guard let session = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size,
                                             Unmanaged.passUnretained(dispatcher).toOpaque()) else {
            Self.free(argv, argc)
            throw OperatorError.failed("cannot start a FUSE session", remedy: "check that fuse3 is installed and /dev/fuse exists")
        }
        self.session = session
        guard fuse_session_mount(session, mountpoint) == 0 else {
            // Every property is set, so deinit runs after this throw and releases the session.
            throw OperatorError.badInput("cannot mount at \(mountpoint)",
                                         remedy: "check that it is an empty directory and not already a mount")
        }
    }

    /// Serves requests on up to `threads` threads until the filesystem is unmounted or a signal arrives.
    ///
    /// Signals are taken by dispatch sources rather than libfuse's handlers: those only stop the loop when the
    /// signal lands on the loop's own thread, and in a Swift process any thread may take it.
    /// `log` hears why an unmount on a signal had to be forced.
    public func run(threads: Int = 8, handleSignals: Bool = false, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let signals = handleSignals ? [SIGINT, SIGTERM, SIGHUP] : []
        let sources = signals.map { number in
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.unmount(log: log) }
            source.resume()
            return source
        }
        defer {
            sources.forEach { $0.cancel() }
            signals.forEach { Glibc.signal($0, SIG_DFL) }
        }
        let config = fuse_loop_cfg_create()
        defer { fuse_loop_cfg_destroy(config) }
        fuse_loop_cfg_set_max_threads(config, UInt32(threads))
        fuse_loop_cfg_set_idle_threads(config, UInt32(max(1, threads / 2)))
        let status = fuse_session_loop_mt(session, config)
        fuse_session_unmount(session)
        guard status >= 0 else {
            throw OperatorError.failed("FUSE loop at \(mountpoint) ended with error \(String(cString: strerror(-status)))")
        }
    }

    /// Ends `run` from another thread: unmounts, which ends the kernel's connection and with it the loop.
    ///
    /// A mount still in use (a file open in it, a shell's working directory) cannot simply be unmounted, and a
    /// lazy detach alone would leave the connection, and this process, serving those users for as long as they
    /// hold on. So a busy mount is forced: MNT_FORCE aborts the connection (their next access fails with
    /// "Transport endpoint is not connected") and the mount is then detached from the tree.
    public func unmount(log: @Sendable (String) -> Void = { _ in }) {
        fuse_session_exit(session)
        guard umount2(mountpoint, 0) != 0 else { return }
        if errno == EBUSY {
            log("\(mountpoint) is still in use (an open file or a working directory in it): forcing the unmount; those processes lose access")
            umount2(mountpoint, Int32(MNT_FORCE))
        }
        umount2(mountpoint, Int32(MNT_DETACH))
    }

    deinit {
        fuse_session_destroy(session)
        Self.free(argv, argc)
    }

    private static func free(_ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ argc: Int) {
        for index in 0..<argc { Glibc.free(argv[index]) }
        argv.deallocate()
    }
}
