import Foundation

/// running while the backup works; complete, or partial when complete with warnings; failed.
public enum SetStatus: String, Codable, Sendable, CaseIterable {
    case running, complete, partial, failed
}

/// A recovery set, as the `sets` projection holds it.
public struct SetRecord: Codable, Sendable, Equatable {
    public var id: UUID
    /// `<UTC compact time>_<host>`
    public var name: String
    public var host: String
    /// 1, 2, ... per host.
    public var ordinal: Int
    public var status: SetStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var valkyrieVersion: String
    /// Number of items captured.
    public var items: Int
    /// Sum of the items' sizes in bytes.
    public var size: Int64
    /// The set's own warnings (from `backup.completed`).
    public var warnings: [String]
    /// The set's and its items' warnings together.
    public var warningCount: Int
    public var error: String?
    public var forgottenAt: Date?

    /// Shown by `sets`: complete or partial, and not forgotten.
    public var isListed: Bool { (status == .complete || status == .partial) && forgottenAt == nil }
}

/// One captured item of a set.
public struct ItemRecord: Codable, Sendable, Equatable {
    public var item: String
    /// The repository's reference to the item's tree or blob.
    public var root: String
    public var digest: String
    public var size: Int64
    public var files: Int
    public var keyMaterial: Bool
    public var warnings: [String]
    public var capturedAt: Date
}

/// An encrypted export stored in a set.
public struct ExportRecord: Codable, Sendable, Equatable {
    public var seq: Int64
    public var export: String
    public var vault: String?
    public var recipients: [String]
    public var vaults: [String]
    public var digest: String
    public var size: Int64
    public var recordedAt: Date
}

public enum DrillStatus: String, Codable, Sendable {
    case running, passed, failed
}

/// A restore drill of a set, with its checks.
public struct DrillRecord: Codable, Sendable, Equatable {
    public var id: UUID
    public var set: UUID
    public var status: DrillStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var passed: Int
    public var failed: Int
    public var report: String?
    public var checks: [DrillCheckRecord]
}

public struct DrillCheckRecord: Codable, Sendable, Equatable {
    public var seq: Int64
    public var name: String
    public var passed: Bool
    public var evidence: String
    public var checkedAt: Date
}

/// A file restored or a key extracted out of a set.
public struct RestoreRecord: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, key }
    public var seq: Int64
    public var kind: Kind
    public var item: String?
    public var path: String?
    public var vault: String?
    public var target: String?
    public var size: Int64?
    public var digest: String?
    public var recipients: [String]
    public var restoredAt: Date
}

/// Everything the catalog knows about one set (`valkyrie show SET`).
public struct SetDetails: Codable, Sendable, Equatable {
    public var set: SetRecord
    public var items: [ItemRecord]
    public var exports: [ExportRecord]
    public var drills: [DrillRecord]
    public var restores: [RestoreRecord]
}
