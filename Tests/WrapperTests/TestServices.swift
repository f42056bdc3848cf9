import Foundation
import Support
import Testing

/// Settings of the real services `scripts/services` started (its DIR/env, exported by `scripts/test`).
enum TestServices {
    /// The value of `name`, or a test failure naming it: a missing service is never a silent skip.
    static func env(_ name: String) throws -> String {
        let value = ProcessInfo.processInfo.environment[name] ?? ""
        try #require(!value.isEmpty, "\(name) is not set: start the services (scripts/services start DIR) and source DIR/env")
        return value
    }
}

/// A fresh temporary folder, removed by `remove()`.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o700])
    return path
}

