import ArgumentParser
import Catalog
import Foundation
import Mount
import Repository
import Support

struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Serve every set read-only through FUSE at MOUNTPOINT, until unmounted or interrupted.",
        discussion: """
        Layout: README.txt, latest, sets/<UTC time>_<host>/, incomplete/, hosts/<host>/<set>, drills/. Vault files
        under vaults/ are plaintext with --unlock (each set's key export, decrypted in memory with the operator's
        GPG key) or --keys FILE (a plaintext `vh vault keys export`); otherwise reading them is refused. Ctrl-C or
        SIGTERM unmounts cleanly.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "An empty directory to mount on.")
    var mountpoint: String

    @Flag(name: .customLong("allow-other"), help: "Let other users in (modes still apply; key material stays root-only).")
    var allowOther = false

    @Flag(name: .long, help: "Decrypt vault files with each set's key export and the operator's GPG secret key ($GNUPGHOME).")
    var unlock = false

    @Option(name: .long, help: "A plaintext vault key export (`vh vault keys export`) to decrypt vault files with.")
    var keys: String?

    @Option(name: .customLong("cache-size"), help: "Memory for cached repository chunks and, as much again, decrypted vault files, in MiB.")
    var cacheSize = 256

    func validate() throws {
        if unlock && keys != nil { throw ValidationError("give --unlock or --keys, not both") }
        if cacheSize < 16 || cacheSize > 1 << 20 { throw ValidationError("--cache-size is in MiB, from 16 to 1048576") }
    }

    func run() async throws {
        let config = try global.loadConfiguration()
        let catalog = try global.openCatalog()
        let opened = try await Repository.open(backend: try repository.backend(config),
                                               unlock: try repository.unlockMethods(config), cacheBytes: cacheSize << 20)
        ChainSync.opened(opened)
        var source = VaultKeySource.none
        if unlock { source = .gpg(homeDirectory: nil) }
        if let keys {
            guard let data = FileManager.default.contents(atPath: keys) else {
                throw OperatorError.badInput("key export \(keys) cannot be read", remedy: "check the path and its permissions")
            }
            source = .export(data)
        }
        let options = MountSession.Options(allowOther: allowOther, keys: source, plaintextCacheBytes: cacheSize << 20)
        // What the mount has to say (refused files, a forced unmount) goes to stderr and the journal as warnings
        // in every mode: under --json stdout stays empty, as the mount prints no result.
        let log = Log(verbose: global.verbose), mountpoint = self.mountpoint
        // libfuse's loop blocks its thread, and every request waits on repository tasks: keep it off the pool.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try MountSession.serve(catalog: catalog, repository: opened, at: mountpoint, options: options,
                                           handleSignals: true, log: { log.line($0, level: .warning) },
                                           ready: { log.line("mounted at \(mountpoint); Ctrl-C or `fusermount3 -u \(mountpoint)` unmounts") })
                })
            }
        }
        log.line("unmounted \(mountpoint)")
    }
}
