import Foundation

/// Runs external programs (pg_dump, vh, swtpm, gpg, ...) with captured output.
///
/// Output pipes are drained on their own threads so a chatty child never blocks on a full pipe.
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

    /// Runs `executable` (a path, or a name looked up on PATH) to completion.
    /// Throws `OperatorError.failed` if it cannot be started; a non-zero exit is returned, not thrown.
    public static func run(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String]? = nil, currentDirectory: String? = nil,
        input: Data? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(executable, environment: environment))
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = input.map { _ in Pipe() }
        process.standardInput = inPipe ?? FileHandle.nullDevice
        do { try process.run() } catch {
            throw OperatorError.failed("cannot start \(executable): \(error.localizedDescription)",
                                       remedy: "check that it is installed and executable")
        }
        let stdout = Drain(out.fileHandleForReading), stderr = Drain(err.fileHandleForReading)
        if let inPipe, let input {
            try? inPipe.fileHandleForWriting.write(contentsOf: input)
            try? inPipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout.wait(), stderr: stderr.wait())
    }

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
}

/// Reads a pipe to its end on a background thread.
private final class Drain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = (try? handle.readToEnd()) ?? Data()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
