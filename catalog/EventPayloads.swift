import Foundation

/// A typed event payload. `version` is the payload schema version this build writes; decoding accepts that
/// version and older ones (fields added later are optional), so old events stay readable forever.
public protocol EventPayload: Codable, Sendable, Equatable {
    static var type: EventType { get }
    static var version: Int { get }
    /// The set the event concerns, if any: `log --set` and the projections find events by it.
    var setID: UUID? { get }
}

extension EventPayload {
    public static var version: Int { 1 }
    public var setID: UUID? { nil }
}

/// A repository was created (`valkyrie init`).
public struct RepositoryInitialized: EventPayload {
    public static let type = EventType.repositoryInitialized
    /// Where: a folder or `s3://bucket/prefix`.
    public var location: String
    public var repositoryID: String
    /// Kinds of the key slots created: passphrase, gpg, tpm.
    public var keySlots: [String]
    public init(location: String, repositoryID: String, keySlots: [String]) {
        self.location = location; self.repositoryID = repositoryID; self.keySlots = keySlots
    }
}

/// A backup began: the set's identity. Append it with `Catalog.startSet`, which assigns name and ordinal.
public struct BackupStarted: EventPayload {
    public static let type = EventType.backupStarted
    public var set: UUID
    /// `<UTCTime.compact(start)>_<host>`
    public var name: String
    public var host: String
    /// 1, 2, ... per host, in start order.
    public var ordinal: Int
    public var valkyrieVersion: String
    /// The items the backup means to capture.
    public var items: [String]
    public var setID: UUID? { self.set }
    public init(set: UUID, name: String, host: String, ordinal: Int, valkyrieVersion: String, items: [String]) {
        self.set = set; self.name = name; self.host = host; self.ordinal = ordinal
        self.valkyrieVersion = valkyrieVersion; self.items = items
    }
}

/// One item of the recovery set is in the repository.
public struct ItemCaptured: EventPayload {
    public static let type = EventType.itemCaptured
    public var set: UUID
    /// postgres, etc, var-lib, swtpm, vault-keys, secrets, s3, version, ...
    public var item: String
    /// The repository's reference to the item's tree or blob (opaque to the catalog).
    public var root: String
    public var digest: String
    public var size: Int64
    public var files: Int
    /// Key material (swtpm state, exports): shown to root only.
    public var keyMaterial: Bool
    public var warnings: [String]
    /// How long capturing the item took (absent in events of older builds).
    public var seconds: Double?
    public var setID: UUID? { self.set }
    public init(set: UUID, item: String, root: String, digest: String, size: Int64, files: Int,
                keyMaterial: Bool = false, warnings: [String] = [], seconds: Double? = nil) {
        self.set = set; self.item = item; self.root = root; self.digest = digest; self.size = size
        self.files = files; self.keyMaterial = keyMaterial; self.warnings = warnings; self.seconds = seconds
    }
}

/// The set is complete; with warnings it is `partial`.
public struct BackupCompleted: EventPayload {
    public static let type = EventType.backupCompleted
    public var set: UUID
    public var warnings: [String]
    public var setID: UUID? { self.set }
    public init(set: UUID, warnings: [String] = []) { self.set = set; self.warnings = warnings }
}

/// The backup failed; the set is `failed` and never listed.
public struct BackupFailed: EventPayload {
    public static let type = EventType.backupFailed
    public var set: UUID
    public var error: String
    /// The item being captured when it failed.
    public var item: String?
    public var setID: UUID? { self.set }
    public init(set: UUID, error: String, item: String? = nil) { self.set = set; self.error = error; self.item = item }
}

/// An encrypted key or secret export was stored in the set.
public struct ExportRecorded: EventPayload {
    public static let type = EventType.exportRecorded
    public var set: UUID
    /// vault-keys, secrets, vault-key (one vault)
    public var export: String
    public var vault: String?
    /// OpenPGP fingerprints it is encrypted to.
    public var recipients: [String]
    /// Vaults it covers.
    public var vaults: [String]
    /// Digest of the encrypted file.
    public var digest: String
    public var size: Int64
    public var setID: UUID? { self.set }
    public init(set: UUID, export: String, vault: String? = nil, recipients: [String], vaults: [String], digest: String, size: Int64) {
        self.set = set; self.export = export; self.vault = vault; self.recipients = recipients
        self.vaults = vaults; self.digest = digest; self.size = size
    }
}

/// Retention dropped the set (`valkyrie forget`); its data goes at the next prune.
public struct SetForgotten: EventPayload {
    public static let type = EventType.setForgotten
    public var set: UUID
    public var reason: String
    /// The repository snapshot removed with it (absent in older events, or when the repository had none).
    public var snapshot: String?
    public var setID: UUID? { self.set }
    public init(set: UUID, reason: String, snapshot: String? = nil) {
        self.set = set; self.reason = reason; self.snapshot = snapshot
    }
}

/// `valkyrie prune` removed unreferenced data.
public struct PruneCompleted: EventPayload {
    public static let type = EventType.pruneCompleted
    public var removedPacks: Int
    public var removedBytes: Int64
    public var keptPacks: Int
    /// Packs condemned by this run (deleted by a run after the grace period) and their bytes; packs repacked.
    /// Absent in older events.
    public var condemnedPacks: Int?
    public var pendingBytes: Int64?
    public var repackedPacks: Int?
    public var seconds: Double?
    public init(removedPacks: Int, removedBytes: Int64, keptPacks: Int, condemnedPacks: Int? = nil,
                pendingBytes: Int64? = nil, repackedPacks: Int? = nil, seconds: Double? = nil) {
        self.removedPacks = removedPacks; self.removedBytes = removedBytes; self.keptPacks = keptPacks
        self.condemnedPacks = condemnedPacks; self.pendingBytes = pendingBytes; self.repackedPacks = repackedPacks
        self.seconds = seconds
    }
}

/// `valkyrie verify` checked the repository.
public struct VerifyCompleted: EventPayload {
    public static let type = EventType.verifyCompleted
    public var checkedPacks: Int
    /// Share of data read back, when `--read-data` was given.
    public var readDataPercent: Double?
    public var problems: [String]
    /// With `--read-data=P`: which of how many rotating subsets was read (1-based). Absent in older events.
    public var subset: Int?
    public var subsets: Int?
    /// Packs read back in this run.
    public var packsRead: Int?
    /// For every set of this catalog in the repository, when all of its data had last been read back (by this
    /// run and the earlier runs of the rotation); absent when no data was read.
    public var readBack: [DataReadBack]?
    public init(checkedPacks: Int, readDataPercent: Double? = nil, problems: [String], subset: Int? = nil,
                subsets: Int? = nil, packsRead: Int? = nil, readBack: [DataReadBack]? = nil) {
        self.checkedPacks = checkedPacks; self.readDataPercent = readDataPercent; self.problems = problems
        self.subset = subset; self.subsets = subsets; self.packsRead = packsRead; self.readBack = readBack
    }
}

/// When a set's data was last read back whole by verify.
public struct DataReadBack: Codable, Sendable, Equatable {
    public var set: UUID
    public var at: Date
    public init(set: UUID, at: Date) { self.set = set; self.at = at }
}

/// A restore drill of a set began.
public struct DrillStarted: EventPayload {
    public static let type = EventType.drillStarted
    public var drill: UUID
    public var set: UUID
    public var setID: UUID? { self.set }
    public init(drill: UUID, set: UUID) { self.drill = drill; self.set = set }
}

/// One check of a drill, with its evidence.
public struct DrillCheck: EventPayload {
    public static let type = EventType.drillCheck
    public var drill: UUID
    public var set: UUID
    public var name: String
    public var passed: Bool
    public var evidence: String
    /// The check handled key material (the swtpm unseal); its evidence holds no key bytes. Absent in older events.
    public var sensitive: Bool?
    public var setID: UUID? { self.set }
    public init(drill: UUID, set: UUID, name: String, passed: Bool, evidence: String, sensitive: Bool? = nil) {
        self.drill = drill; self.set = set; self.name = name; self.passed = passed; self.evidence = evidence
        self.sensitive = sensitive
    }
}

/// A drill finished.
public struct DrillCompleted: EventPayload {
    public static let type = EventType.drillCompleted
    public var drill: UUID
    public var set: UUID
    public var passed: Bool
    /// Where the Markdown/JSON report lives.
    public var report: String?
    public var setID: UUID? { self.set }
    public init(drill: UUID, set: UUID, passed: Bool, report: String? = nil) {
        self.drill = drill; self.set = set; self.passed = passed; self.report = report
    }
}

/// A file (or vault file, decrypted) was restored out of a set.
public struct FileRestored: EventPayload {
    public static let type = EventType.fileRestored
    public var set: UUID
    public var item: String?
    public var path: String
    public var vault: String?
    public var target: String
    public var size: Int64
    public var digest: String
    public var setID: UUID? { self.set }
    public init(set: UUID, item: String? = nil, path: String, vault: String? = nil, target: String, size: Int64, digest: String) {
        self.set = set; self.item = item; self.path = path; self.vault = vault
        self.target = target; self.size = size; self.digest = digest
    }
}

/// A vault key was extracted from a set for a recipient (the key itself is never recorded).
public struct KeyExtracted: EventPayload {
    public static let type = EventType.keyExtracted
    public var set: UUID
    public var vault: String
    public var keyVersion: Int
    public var recipients: [String]
    public var setID: UUID? { self.set }
    public init(set: UUID, vault: String, keyVersion: Int, recipients: [String]) {
        self.set = set; self.vault = vault; self.keyVersion = keyVersion; self.recipients = recipients
    }
}

/// The chain head was written into the repository.
public struct ChainAnchored: EventPayload {
    public static let type = EventType.chainAnchored
    public var seq: Int64
    /// Hex SHA-256 of event `seq`.
    public var hash: String
    /// Where in the repository.
    public var location: String
    public init(seq: Int64, hash: String, location: String) { self.seq = seq; self.hash = hash; self.location = location }
}

/// Every payload type this build knows, by type name.
public enum KnownEvents {
    public static let all: [any EventPayload.Type] = [
        RepositoryInitialized.self, BackupStarted.self, ItemCaptured.self, BackupCompleted.self, BackupFailed.self,
        ExportRecorded.self, SetForgotten.self, PruneCompleted.self, VerifyCompleted.self, DrillStarted.self,
        DrillCheck.self, DrillCompleted.self, FileRestored.self, KeyExtracted.self, ChainAnchored.self,
    ]
    public static let byType: [EventType: any EventPayload.Type] =
        Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })
}
