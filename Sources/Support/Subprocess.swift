import Foundation
import SystemShims

/// Runs external programs (pg_dump, vh, swtpm, gpg, ...) with captured output.
///
/// Children are spawned with an empty signal mask and default signal dispositions: threads of the Swift
/// runtime block signals, and a child inheriting that mask would ignore SIGTERM. Every pipe is close-on-exec and
/// children get only descriptors 0, 1 and 2, so a daemon started by one call never holds another call's output open. Output is drained on its own
/// threads so a chatty child never blocks on a full pipe.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
        /// The last non-empty line of stderr, for one-line error messages.
        public var stderrSummary: String {
            stderrText.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
        }
    }

    /// Runs `executable` (a path, or a name looked up on PATH) to completion. A child killed by signal N
    /// reports status 128 + N. With `captureOutput` false, its stdout and stderr go to /dev/null (for
    /// programs that daemonize and would otherwise hold the pipes open).
    /// Throws `OperatorError.failed` if it cannot be started; a non-zero exit is returned, not thrown.
    public static func run(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String]? = nil, currentDirectory: String? = nil,
        input: Data? = nil, captureOutput: Bool = true
    ) throws -> Result {
        let path = try resolve(executable, environment: environment)
        let stdin = input == nil ? nil : try Pipe2()
        let stdout = captureOutput ? try Pipe2() : nil
        let stderr = captureOutput ? try Pipe2() : nil
        let pid = try spawn(path, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                            currentDirectory: currentDirectory,
                            stdin: stdin?.read, stdout: stdout?.write, stderr: stderr?.write)
        [stdin?.read, stdout?.write, stderr?.write].forEach { if let fd = $0 { close(fd) } }
        let out = stdout.map { Drain($0.read) }, err = stderr.map { Drain($0.read) }
        if let stdin, let input {
            _ = brokenPipesAreErrors
            let handle = FileHandle(fileDescriptor: stdin.write, closeOnDealloc: true)
            try? handle.write(contentsOf: input) // a child that stops reading early is not our error
            try? handle.close()
        }
        let status = wait(pid)
        return Result(status: status, stdout: out?.wait() ?? Data(), stderr: err?.wait() ?? Data())
    }

    /// A child that exits or stops reading before taking all its input (pg_restore --list, gpg refusing a
    /// recipient) must give this process EPIPE, not a fatal SIGPIPE. Children get default signal handling back
    /// at spawn (POSIX_SPAWN_SETSIGDEF), so ignoring it here changes nothing for them.
    private static let brokenPipesAreErrors: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Like `run`, but a non-zero exit becomes an `OperatorError.failed` naming the program and its last error line.
    @discardableResult
    public static func check(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String]? = nil, currentDirectory: String? = nil, input: Data? = nil
    ) throws -> Result {
        let result = try run(executable, arguments, environment: environment,
                             currentDirectory: currentDirectory, input: input)
        guard result.status == 0 else {
            let name = (executable as NSString).lastPathComponent
            throw OperatorError.failed("\(name) \(arguments.first ?? "") failed: \(result.stderrSummary)")
        }
        return result
    }

    /// The absolute path of `name`: itself if it contains a slash, else the first match on PATH.
    public static func resolve(_ name: String, environment: [String: String]? = nil) throws -> String {
        if name.contains("/") { return name }
        let path = (environment ?? ProcessInfo.processInfo.environment)["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw OperatorError.failed("\(name) is not installed (not found on PATH)",
                                   remedy: "install it, or run scripts/setup")
    }

    static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String], currentDirectory: String?,
        stdin: Int32?, stdout: Int32?, stderr: Int32?
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (source, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        if let currentDirectory { valkyrie_spawn_addchdir(&actions, currentDirectory) }
        valkyrie_spawn_addclosefrom(&actions, 3) // nothing of ours but 0, 1, 2 reaches the child

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw OperatorError.failed("cannot start \(path): \(String(cString: strerror(rc)))",
                                       remedy: "check that it is installed and executable")
        }
        return pid
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// A close-on-exec pipe.
struct Pipe2 {
    let read: Int32
    let write: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard valkyrie_pipe_cloexec(&fds) == 0 else {
            throw OperatorError.failed("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        read = fds[0]
        write = fds[1]
    }
}

/// Reads a file descriptor to its end on a background thread, then closes it.
final class Drain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ fd: Int32) {
        Thread.detachNewThread { [self] in
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            data = (try? handle.readToEnd()) ?? Data()
            try? handle.close()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
