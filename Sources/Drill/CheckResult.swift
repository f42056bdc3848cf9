import Foundation

/// One check's verdict and evidence: what was compared, the values, and how long it took.
public struct CheckResult: Codable, Sendable, Equatable {
    public var name: String
    public var passed: Bool
    /// One line per comparison; a failed check's first line says why.
    public var evidence: [String]
    public var seconds: Double
    /// Touches key material (the swtpm check): recorded without any key bytes.
    public var sensitive: Bool

    init(name: String, passed: Bool, evidence: [String], seconds: Double, sensitive: Bool = false) {
        self.name = name
        self.passed = passed
        self.evidence = evidence
        self.seconds = seconds
        self.sensitive = sensitive
    }

    /// The text of the `drill.check` event.
    var eventEvidence: String {
        (evidence + [String(format: "took %.3f s", seconds)] + (sensitive ? ["sensitive: no key bytes recorded"] : []))
            .joined(separator: "; ")
    }
}

/// Collects a check's lines and failures while it runs.
struct CheckLog {
    var lines: [String] = []
    var failures: [String] = []

    mutating func pass(_ line: String) { lines.append(line) }
    mutating func fail(_ line: String) { failures.append(line) }
    mutating func expect(_ ok: Bool, _ line: String) { ok ? pass(line) : fail(line) }

    func result(_ name: String, since start: Date, sensitive: Bool = false) -> CheckResult {
        CheckResult(name: name, passed: failures.isEmpty, evidence: failures.map { "FAILED: \($0)" } + lines,
                    seconds: Date().timeIntervalSince(start), sensitive: sensitive)
    }
}
