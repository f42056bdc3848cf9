/// An event's type name (`backup.completed`). Open-ended: a newer Valkyrie's types are kept and shown.
public struct EventType: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    public static let repositoryInitialized: EventType = "repository.initialized"
    public static let backupStarted: EventType = "backup.started"
    public static let itemCaptured: EventType = "backup.item-captured"
    public static let backupCompleted: EventType = "backup.completed"
    public static let backupFailed: EventType = "backup.failed"
    public static let exportRecorded: EventType = "export.recorded"
    public static let setForgotten: EventType = "set.forgotten"
    public static let pruneCompleted: EventType = "prune.completed"
    public static let verifyCompleted: EventType = "verify.completed"
    public static let drillStarted: EventType = "drill.started"
    public static let drillCheck: EventType = "drill.check"
    public static let drillCompleted: EventType = "drill.completed"
    public static let fileRestored: EventType = "file.restored"
    public static let keyExtracted: EventType = "key.extracted"
    public static let chainAnchored: EventType = "chain.anchored"
}
