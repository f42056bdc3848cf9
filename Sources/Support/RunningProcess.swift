import Foundation

/// A child started by `Subprocess.start`: its standard output is read by the caller as it comes (a database
/// dump streamed into the repository), its standard error is collected, and `wait()` reaps it.
public final class RunningProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The child's standard output; the caller reads it to its end.
    public let output: FileHandle
    private let errors: Drain

    init(pid: pid_t, output: FileHandle, errors: Drain) {
        self.pid = pid
        self.output = output
        self.errors = errors
    }

    /// Waits for the child; status 128 + N for a child killed by signal N.
    public func wait() -> (status: Int32, stderr: String) {
        let status = Subprocess.wait(pid)
        return (status, String(decoding: errors.wait(), as: UTF8.self))
    }

    /// Sends `signal` to the child (SIGTERM to stop it when the work it feeds is given up).
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }
}

extension Subprocess {
    /// Starts `executable` with its standard output on a pipe the caller reads, and stdin from /dev/null.
    public static func start(_ executable: String, _ arguments: [String] = [],
                             environment: [String: String]? = nil) throws -> RunningProcess {
        let path = try resolve(executable, environment: environment)
        let stdout = try Pipe2(), stderr = try Pipe2()
        let pid = try spawn(path, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                            currentDirectory: nil, stdin: nil, stdout: stdout.write, stderr: stderr.write)
        close(stdout.write)
        close(stderr.write)
        return RunningProcess(pid: pid, output: FileHandle(fileDescriptor: stdout.read, closeOnDealloc: true),
                              errors: Drain(stderr.read))
    }
}
