import Foundation
import Support

/// `--maintenance`: stops Vaulthalla's services with the configured commands and starts them again.
public struct Maintenance: Sendable {
    public let commands: CaptureSettings.MaintenanceCommands

    public init(_ commands: CaptureSettings.MaintenanceCommands) {
        self.commands = commands
    }

    /// Runs every stop command; the first failure stops there (the caller then starts again).
    public func stop() throws {
        for command in commands.stop {
            let result = try Subprocess.run("/bin/sh", ["-c", command])
            guard result.status == 0 else {
                throw OperatorError.failed("maintenance stop command `\(command)` failed (exit \(result.status)): \(result.stderrSummary)",
                                           remedy: "fix maintenance.stop in the config; the services were started again")
            }
        }
    }

    /// Runs every start command, all of them even if one fails; returns the failures.
    @discardableResult
    public func start() -> [String] {
        var failures: [String] = []
        for command in commands.start {
            let result = try? Subprocess.run("/bin/sh", ["-c", command])
            if result?.status != 0 {
                failures.append("maintenance start command `\(command)` failed: \(result?.stderrSummary ?? "cannot run /bin/sh")")
            }
        }
        return failures
    }
}
