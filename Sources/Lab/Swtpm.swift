import Foundation
import Support
import TPM

/// A swtpm in socket mode on free loopback ports (P, and P+1 for control, as the swtpm TCTI expects), with its
/// state in a host's `var/lib/swtpm/vaulthalla`. A plain child with its output on /dev/null (a `--daemon` keeps
/// inherited pipes open); stopped through its control port, so a signal mask it inherited cannot keep it alive.
public final class SwtpmProcess: @unchecked Sendable {
    public let pid: Int32
    public let port: Int
    private let process: Process?

    public var tcti: String { "swtpm:host=127.0.0.1,port=\(port)" }

    private init(pid: Int32, port: Int, process: Process?) {
        self.pid = pid
        self.port = port
        self.process = process
    }

    /// Starts swtpm and waits until it accepts a TPM session.
    public static func start(stateDirectory: String, logFile: String) throws -> SwtpmProcess {
        for _ in 0..<5 {
            let port = try LoopbackPort.freePair()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try Subprocess.resolve("swtpm"))
            process.arguments = [
                "socket", "--tpm2", "--tpmstate", "dir=\(stateDirectory)", "--flags", "not-need-init,startup-clear",
                "--server", "type=tcp,port=\(port),bindaddr=127.0.0.1", "--ctrl", "type=tcp,port=\(port + 1),bindaddr=127.0.0.1",
                "--log", "file=\(logFile)",
            ]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let swtpm = SwtpmProcess(pid: process.processIdentifier, port: port, process: process)
            for _ in 0..<50 where process.isRunning {
                if (try? TPMContext(tcti: swtpm.tcti)) != nil { return swtpm }
                usleep(100_000)
            }
            swtpm.stop() // most likely the port was taken in between: try another
        }
        throw OperatorError.failed("swtpm did not start on \(stateDirectory)",
                                   remedy: "check \(logFile); is swtpm installed (scripts/setup)?")
    }

    /// The swtpm recorded in a PID file, if it is still running.
    public static func running(pidFile: String, port: Int) -> SwtpmProcess? {
        guard let text = FileManager.default.contents(atPath: pidFile),
              let pid = Int32(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              kill(pid, 0) == 0 else { return nil }
        return SwtpmProcess(pid: pid, port: port, process: nil)
    }

    /// Shuts it down through the control port (it saves its state on the way out); SIGKILL after five seconds.
    public func stop() {
        _ = try? Subprocess.run("swtpm_ioctl", ["--tcp", "127.0.0.1:\(port + 1)", "-s"])
        for _ in 0..<100 where isAlive { usleep(50_000) }
        if isAlive { kill(pid, SIGKILL) }
        process?.waitUntilExit()
    }

    private var isAlive: Bool {
        if let process { return process.isRunning }
        return kill(pid, 0) == 0
    }
}

/// The host's own swtpm, started for the vh stand-in, drills and tests: PID in `ROOT/lab/swtpm.pid`, TCTI in `ROOT/lab/tcti`.
public enum LabSwtpm {
    /// Starts it (or finds it running) and returns its TCTI.
    public static func start(root: String) throws -> String {
        let paths = LabPaths(root: root)
        if let tcti = runningTCTI(paths) { return tcti }
        let swtpm = try SwtpmProcess.start(stateDirectory: paths.host.swtpmState, logFile: "\(paths.labDirectory)/swtpm.log")
        try writeFile(paths.swtpmPIDFile, Data("\(swtpm.pid)\n".utf8), mode: 0o644)
        try writeFile(paths.tctiFile, Data((swtpm.tcti + "\n").utf8), mode: 0o644)
        return swtpm.tcti
    }

    public static func stop(root: String) {
        let paths = LabPaths(root: root)
        if let tcti = runningTCTI(paths), let port = Int(tcti.split(separator: "=").last ?? ""),
           let swtpm = SwtpmProcess.running(pidFile: paths.swtpmPIDFile, port: port) {
            swtpm.stop()
        }
        try? FileManager.default.removeItem(atPath: paths.tctiFile)
        try? FileManager.default.removeItem(atPath: paths.swtpmPIDFile)
    }

    static func runningTCTI(_ paths: LabPaths) -> String? {
        guard let text = try? String(contentsOfFile: paths.tctiFile, encoding: .utf8) else { return nil }
        let tcti = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(tcti.split(separator: "=").last ?? ""),
              SwtpmProcess.running(pidFile: paths.swtpmPIDFile, port: port) != nil else { return nil }
        return tcti
    }
}
