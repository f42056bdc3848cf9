import Foundation
import Support

/// What a drill proved: the set's versions and recipient, and each check's verdict and evidence.
public struct DrillReport: Codable, Sendable {
    public var drill: UUID
    public var set: String
    public var setID: UUID
    public var startedAt: Date
    public var seconds: Double
    public var vhVersion: String
    public var package: String?
    /// The PostgreSQL server version the set was taken from, and that of the scratch server.
    public var databaseVersion: Int
    public var scratchDatabaseVersion: Int?
    public var tpmMode: String
    public var gpgRecipient: String
    public var checks: [CheckResult]
    /// Where the time went, in order: the dump from the repository, scratch server start, pg_restore, the key
    /// exports, each check, teardown.
    public var steps: [Step]

    public struct Step: Codable, Sendable, Equatable {
        public var step: String
        public var seconds: Double
    }

    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }

    public var markdown: String {
        var lines = ["# Drill of \(set)", "",
                     "Verdict: **\(passed ? "passed" : "FAILED")** (\(checks.filter(\.passed).count) of \(checks.count) checks passed), "
                        + "started \(UTCTime.string(startedAt)), \(String(format: "%.1f", seconds)) s.", "",
                     "| | |", "|---|---|",
                     "| Vaulthalla | \(vhVersion) |", "| package | \(package ?? "not from a package") |",
                     "| PostgreSQL | \(databaseVersion) (scratch server \(scratchDatabaseVersion.map(String.init) ?? "not started")) |",
                     "| TPM mode | \(tpmMode) |", "| GPG recipient | \(gpgRecipient) |", ""]
        if !steps.isEmpty {
            lines += ["## Time per step", "", "| step | seconds |", "|---|---:|"]
            lines += steps.map { "| \($0.step) | \(String(format: "%.3f", $0.seconds)) |" }
            lines += ["| total | \(String(format: "%.3f", seconds)) |", ""]
        }
        for check in checks {
            lines.append("## \(check.passed ? "passed" : "FAILED"): \(check.name) (\(String(format: "%.3f", check.seconds)) s)")
            lines.append("")
            lines += check.evidence.map { "- \($0)" }
            if check.sensitive { lines.append("- sensitive: no key bytes recorded") }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
