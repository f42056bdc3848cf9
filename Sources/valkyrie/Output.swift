import ArgumentParser
import Foundation
import Support

/// Where a command's results go: human text, or one JSON document with `--json`.
struct Output: Sendable {
    let json: Bool

    /// Prints `value` as JSON in JSON mode, else the human rendering.
    func emit<T: Encodable>(_ value: T, human: () -> String) {
        if json {
            let data = (try? JSONFormat.encoder(pretty: true).encode(value)) ?? Data("{}".utf8)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            let text = human()
            if !text.isEmpty { print(text) }
        }
    }

    /// A line for the operator on stderr (never stdout, which belongs to results).
    func note(_ line: String) {
        guard !json else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Reports a failure and returns the exit code to leave with.
    func report(_ error: Error) -> Int32 {
        let (status, message, remedy) = classify(error)
        if status == .ok, let message {
            print(message) // --help, --version
            return 0
        }
        if json, message != nil {  // a CommandExit follows a result already printed
            struct ErrorReport: Encodable {
                let error: String
                let remedy: String?
                let exitCode: Int32
            }
            let report = ErrorReport(error: message ?? "", remedy: remedy, exitCode: status.rawValue)
            let data = (try? JSONFormat.encoder().encode(report)) ?? Data()
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else if let message, !message.isEmpty {
            Log(verbose: false).line(remedy.map { "\(message); \($0)" } ?? message, level: .error)
        }
        return status.rawValue
    }

    private func classify(_ error: Error) -> (ExitStatus, String?, String?) {
        switch error {
        case let error as OperatorError:
            return (error.status, error.problem, error.remedy)
        case let exit as CommandExit:
            return (exit.status, nil, nil)
        default:
            let code = Valkyrie.exitCode(for: error)
            let text = Valkyrie.fullMessage(for: error)
            if code == .success { return (.ok, text, nil) }
            if code == .validationFailure {
                let firstLine = text.split(separator: "\n").first.map(String.init) ?? text
                return (.usage, firstLine.replacingOccurrences(of: "Error: ", with: ""),
                        "see `valkyrie help`")
            }
            return (.failed, text.isEmpty ? "\(error)" : text, nil)
        }
    }
}

/// Leaves with a given exit code after the command has already printed its result (e.g. 3, partial).
struct CommandExit: Error {
    let status: ExitStatus
}
