import Foundation

/// Lines for the operator and the journal on stderr, one per event. Colour only on a terminal (and without
/// $NO_COLOR); under systemd (stderr is the journal's socket, named by $JOURNAL_STREAM) each line starts with its syslog
/// priority (`<4>`), which journald reads as the level and strips.
struct Log: Sendable {
    enum Level: Int, Sendable {
        case error = 3, warning = 4, info = 6, debug = 7
    }

    let verbose: Bool
    let terminal: Bool
    let journal: Bool
    let colour: Bool

    init(verbose: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.verbose = verbose
        terminal = isatty(STDERR_FILENO) == 1
        journal = !terminal && Self.stderrIsJournal(environment)
        colour = terminal && environment["NO_COLOR"] == nil
    }

    /// systemd sets $JOURNAL_STREAM to the journal socket's `device:inode`; a child whose stderr was redirected
    /// inherits the variable, so the socket behind fd 2 must be that one.
    static func stderrIsJournal(_ environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"], let inode = stream.split(separator: ":").last,
              let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/2") else { return false }
        return target == "socket:[\(inode)]"
    }

    /// Event lines go out when stderr is not a terminal (a unit, cron, a pipe) or with --verbose; on a terminal
    /// the progress line and the summary say it already.
    var showsEvents: Bool { verbose || !terminal }

    /// One line; `.debug` lines only with --verbose.
    func line(_ text: String, level: Level = .info) {
        guard level != .debug || verbose else { return }
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        var out = "valkyrie: \(flat)"
        if colour, level == .error { out = "\u{1B}[31m\(out)\u{1B}[0m" }
        if colour, level == .warning { out = "\u{1B}[33m\(out)\u{1B}[0m" }
        if journal { out = "<\(level.rawValue)>\(out)" }
        FileHandle.standardError.write(Data((out + "\n").utf8))
    }

    /// `key=value` pairs; values with spaces, quotes or `=` are quoted.
    static func fields(_ pairs: [(String, String)]) -> String {
        pairs.map { key, value in
            let plain = !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            return "\(key)=" + (plain ? value : "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"")
        }.joined(separator: " ")
    }
}
