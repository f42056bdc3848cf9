import Foundation
import Support

/// The Prometheus text file node_exporter's textfile collector reads: gauges for the last backup, drill, verify and
/// prune. The file is its own state: each command reads it, replaces its own series and writes it back whole
/// (under a lock, through a temp file and a rename, so the collector never reads half a file).
struct MetricsFile: Sendable {
    let path: String
    let createFolder: Bool

    /// Every metric the file may hold, in file order, with its help text. Series of other names are dropped.
    static let families: [(name: String, help: String)] = [
        ("valkyrie_last_success_timestamp_seconds", "When the command last succeeded (exit 0, or 3 for a backup with warnings), Unix time."),
        ("valkyrie_last_failure_timestamp_seconds", "When the command last failed, Unix time."),
        ("valkyrie_last_duration_seconds", "How long the command's last run took."),
        ("valkyrie_last_exit_code", "The command's last exit code (0 ok, 1 failed, 2 bad input, 3 partial)."),
        ("valkyrie_backup_last_added_bytes", "Bytes the last successful backup added to the repository."),
        ("valkyrie_backup_last_size_bytes", "Size of the last successful backup's set."),
        ("valkyrie_backup_last_warnings", "Warnings and mismatches of the last successful backup."),
        ("valkyrie_sets", "Sets in the catalog (complete or partial, not forgotten)."),
        ("valkyrie_drill_last_timestamp_seconds", "When the newest drill finished, Unix time."),
        ("valkyrie_drill_last_passed", "1 if the newest drill passed, 0 if it failed."),
        ("valkyrie_drill_last_pass_timestamp_seconds", "When a drill last passed, Unix time."),
        ("valkyrie_verify_last_read_data_percent", "Share of the data the last successful verify read back (0: structure only)."),
        ("valkyrie_verify_last_problems", "Problems the last verify found."),
        ("valkyrie_prune_last_removed_bytes", "Bytes the last successful prune removed."),
    ]

    /// Series as `name` or `name{labels}` -> value.
    typealias Samples = [String: Double]

    /// Replaces the series in `changes` (nil removes one), keeping every other series of the file.
    func update(_ changes: [String: Double?]) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if createFolder {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        // Two commands finishing together must not lose each other's series.
        let lock = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw OperatorError.failed("cannot open \(path).lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        var samples = FileManager.default.contents(atPath: path).map { Self.parse(String(decoding: $0, as: UTF8.self)) } ?? [:]
        for (series, value) in changes { samples[series] = value }
        // The collector reads only *.prom: the temp file is not one until renamed.
        let temp = "\(folder)/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(Self.render(samples).utf8),
                                             attributes: [.posixPermissions: 0o644]) else {
            throw OperatorError.failed("cannot write \(temp)", remedy: "check that \(folder) is writable")
        }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw OperatorError.failed("cannot rename \(temp) to \(path): \(reason)")
        }
    }

    static func family(of series: String) -> String {
        String(series.prefix { $0 != "{" })
    }

    /// The series of a file this type wrote (comments and unknown names skipped).
    static func parse(_ text: String) -> Samples {
        var samples: Samples = [:]
        let known = Set(families.map(\.name))
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = String(line[..<space])
            if known.contains(family(of: series)) { samples[series] = value }
        }
        return samples
    }

    static func render(_ samples: Samples) -> String {
        var text = ""
        for family in families {
            let series = samples.keys.filter { Self.family(of: $0) == family.name }.sorted()
            guard !series.isEmpty else { continue }
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            for name in series { text += "\(name) \(format(samples[name]!))\n" }
        }
        return text
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// `name{command="backup"}`
    static func series(_ name: String, command: String) -> String {
        "\(name){command=\"\(command)\"}"
    }
}
