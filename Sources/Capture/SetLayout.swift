import Foundation
import Repository

/// The roots of a set (docs/set-layout.md); each root's name is its path inside the set and its item name.
public enum SetLayout {
    public static let postgres = "postgres"
    public static let etc = "etc/vaulthalla"
    public static let varLib = "var/lib/vaulthalla"
    public static let swtpm = "var/lib/swtpm/vaulthalla"
    public static let exports = "exports"
    public static let keys = "keys"
    public static let s3 = "s3"
    public static let s3Objects = "valkyrie/s3-objects.jsonl"
    public static let vaultIndex = "valkyrie/vault-index.jsonl"
    public static let version = "valkyrie/version.json"

    /// Roots holding key material: shown to root only.
    public static let keyMaterial: Set<String> = [swtpm, exports, keys]
}

/// One item in the repository, before its event is recorded.
public struct CapturedItem: Sendable {
    public var root: String
    public var value: Snapshot.Root
    public var files: Int
    public var bytes: Int64
    public var warnings: [String] = []
    public var started: Date
    /// When its capture ended, if it was recorded later (items taken at once are recorded in the set's order).
    public var finished: Date?
    /// Objects or files taken over from the previous set without reading them.
    public var reused = 0
    /// Paths left out by configuration (recorded in the version record, not warnings).
    public var excluded: [String] = []
    /// A digest of the content: SHA-256 for streamed files, else the tree id.
    public var digest: String?

    /// The catalog's opaque reference: the tree id, or a single-file root's blobs (`NodeReference`).
    public var reference: String {
        switch value {
        case let .tree(id): id.hex
        case let .file(node): NodeReference(file: node).text
        }
    }
}
