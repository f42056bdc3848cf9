import Foundation
import Support
import Synchronization

/// The configuration each file yields, read once per process: a command asks for it several times (catalog path,
/// repository, settings), and `Main` starts reading the file the arguments name while they are parsed, so its
/// YAML decoding (milliseconds of a short command) runs beside the parsing instead of after it.
enum ConfigurationCache {
    /// By path and whether the file must exist; the outcome, failures included, is the one `Configuration.load` gave.
    private static let loaded = Mutex<[String: Result<Configuration, any Error>]>([:])

    static func load(path: String, required: Bool) throws -> Configuration {
        let key = "\(required) \(path)"
        // Held while the file is decoded: a second caller (the prefetch and the command) waits for the first's result.
        return try loaded.withLock { loaded in
            if let known = loaded[key] { return known }
            let result = Result { try Configuration.load(path: path, required: required) }
            loaded[key] = result
            return result
        }.get()
    }

    /// Starts reading the configuration that `arguments` (the command line without the program) select, on a
    /// thread of its own; nothing for help and version requests, which read none.
    static func prefetch(_ arguments: [String]) {
        guard !arguments.isEmpty, !arguments.contains(where: { ["--help", "-h", "--version", "help", "version"].contains($0) }) else { return }
        let flag = configFlag(arguments)
        let path = GlobalOptions.configPath(flag: flag), required = GlobalOptions.configIsExplicit(flag: flag)
        Thread.detachNewThread { _ = try? load(path: path, required: required) }
    }

    /// The value of `--config PATH` or `--config=PATH`, as the parser will read it (options end at `--`).
    static func configFlag(_ arguments: [String]) -> String? {
        var value: String?
        var index = arguments.startIndex
        while index < arguments.endIndex, arguments[index] != "--" {
            let argument = arguments[index]
            if argument == "--config", index + 1 < arguments.endIndex {
                value = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--config=") {
                value = String(argument.dropFirst("--config=".count))
            }
            index += 1
        }
        return value
    }
}
