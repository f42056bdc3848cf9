import Foundation

/// Who records an event: the host and the acting user (uid and name).
public struct EventOrigin: Sendable, Equatable, Codable {
    public var host: String
    public var uid: UInt32
    public var user: String

    public init(host: String, uid: UInt32, user: String) {
        self.host = host
        self.uid = uid
        self.user = user
    }

    /// This machine's short host name and the process's real user.
    public static var current: EventOrigin {
        // The kernel's name, without a resolver round trip; elsewhere Foundation's.
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let full = kernel.flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        let host = full.split(separator: ".").first.map(String.init) ?? full
        return EventOrigin(host: host.isEmpty ? "localhost" : host, uid: getuid(), user: NSUserName())
    }
}
