import Foundation
import Support
import TPM

/// A swtpm on a copy of the set's swtpm state, in socket mode on a loopback port pair (P, and P+1 for control as
/// the swtpm TCTI expects). Daemonized, its PID in the scratch folder; `stop()` shuts it down and kills it if need be.
final class ScratchSwtpm: Sendable {
    let port: Int
    let pidFile: String
    var tcti: String { "swtpm:host=127.0.0.1,port=\(port)" }

    private init(port: Int, pidFile: String) {
        self.port = port
        self.pidFile = pidFile
    }

    static func start(stateDirectory: String, folder: String) throws -> ScratchSwtpm {
        let pidFile = "\(folder)/swtpm.pid"
        for _ in 0..<5 {
            let port = try LoopbackPort.freePair()
            let swtpm = ScratchSwtpm(port: port, pidFile: pidFile)
            let result = try Subprocess.run("swtpm", [
                "socket", "--tpm2", "--tpmstate", "dir=\(stateDirectory)", "--flags", "not-need-init,startup-clear",
                "--server", "type=tcp,port=\(port),bindaddr=127.0.0.1", "--ctrl", "type=tcp,port=\(port + 1),bindaddr=127.0.0.1",
                "--pid", "file=\(pidFile)", "--log", "file=\(folder)/swtpm.log", "--daemon",
            ], captureOutput: false)
            guard result.status == 0 else { swtpm.stop(); continue }  // a port taken in between: another pair
            // swtpm serves one connection at a time: this probe's context is closed before the checks open theirs.
            for _ in 0..<50 {
                if (try? TPMContext(tcti: swtpm.tcti)) != nil { return swtpm }
                usleep(100_000)
            }
            swtpm.stop()
        }
        throw OperatorError.failed("a scratch swtpm did not start on \(stateDirectory)",
                                   remedy: "check \(folder)/swtpm.log; is swtpm installed?")
    }

    var pid: Int32? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Shutdown through the control port; SIGKILL after three seconds.
    func stop() {
        _ = try? Subprocess.run("swtpm_ioctl", ["--tcp", "127.0.0.1:\(port + 1)", "-s"])
        guard let pid else { return }
        for _ in 0..<60 where kill(pid, 0) == 0 { usleep(50_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: pidFile)
    }
}
