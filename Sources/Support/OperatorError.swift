/// Valkyrie's stable exit codes (README, "Exit codes").
public enum ExitStatus: Int32, Sendable, Codable {
    case ok = 0
    case failed = 1
    case usage = 2
    case partial = 3
}

/// An error written for the operator: one line naming what is wrong (the path, item or slot) and what to do.
///
/// Every module throws this for conditions an operator can act on; anything else reaching the CLI is a bug
/// and is reported as `failed`. Messages never carry key material.
public struct OperatorError: Error, CustomStringConvertible, Sendable, Equatable {
    public var status: ExitStatus
    /// What is wrong, naming the path, item, slot or setting concerned.
    public var problem: String
    /// What the operator can do about it.
    public var remedy: String?

    public init(_ status: ExitStatus, _ problem: String, remedy: String? = nil) {
        self.status = status
        self.problem = problem
        self.remedy = remedy
    }

    /// Bad input (exit 2): a wrong path, flag, setting, key or file that the operator supplied.
    public static func badInput(_ problem: String, remedy: String? = nil) -> OperatorError {
        OperatorError(.usage, problem, remedy: remedy)
    }

    /// The work failed (exit 1): a service down, data damaged, a check that did not pass.
    public static func failed(_ problem: String, remedy: String? = nil) -> OperatorError {
        OperatorError(.failed, problem, remedy: remedy)
    }

    public var description: String {
        guard let remedy, !remedy.isEmpty else { return problem }
        return "\(problem); \(remedy)"
    }
}
