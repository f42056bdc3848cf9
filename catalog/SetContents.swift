import Foundation

public enum EntryKind: String, Codable, Sendable {
    case file, directory, symlink, other
}

/// One entry of a set's item, as the repository describes it.
public struct FileEntry: Codable, Sendable, Equatable {
    /// Absolute, as shown under `sets/<set>/` in the mount (`/etc/vaulthalla/config.yaml`).
    public var path: String
    public var kind: EntryKind
    public var size: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtimeNanoseconds: Int64
    /// Changes whenever content or metadata changes; equal versions mean an identical entry.
    public var version: String
    /// The repository's reference to this version's content (opaque here; valid in every set holding it).
    public var node: String

    public init(path: String, kind: EntryKind, size: Int64, mode: UInt32, uid: UInt32, gid: UInt32,
                mtimeNanoseconds: Int64, version: String, node: String) {
        self.path = path; self.kind = kind; self.size = size; self.mode = mode; self.uid = uid; self.gid = gid
        self.mtimeNanoseconds = mtimeNanoseconds; self.version = version; self.node = node
    }
}

/// One file or directory of a Vaulthalla vault, by logical path, as captured in a set's vault index.
public struct VaultEntry: Codable, Sendable, Equatable {
    public var vault: String
    /// Logical path inside the vault, leading `/`.
    public var path: String
    public var kind: EntryKind
    /// Where the encrypted body lives on the host (alias path), when it is a local vault file.
    public var backingPath: String?
    public var size: Int64
    /// `files.encryption_iv` (base64; empty or nil for plaintext bodies).
    public var iv: String?
    public var keyVersion: Int?
    /// `files.content_hash`: BLAKE2b-256 hex of the ciphertext.
    public var contentHash: String?
    /// `files.encryption_format`, where the Vaulthalla version records it.
    public var format: Int?
    public var version: String
    public var node: String

    public init(vault: String, path: String, kind: EntryKind, backingPath: String?, size: Int64, iv: String?,
                keyVersion: Int?, contentHash: String?, format: Int?, version: String, node: String) {
        self.vault = vault; self.path = path; self.kind = kind; self.backingPath = backingPath; self.size = size
        self.iv = iv; self.keyVersion = keyVersion; self.contentHash = contentHash; self.format = format
        self.version = version; self.node = node
    }
}

/// What the catalog needs from the repository to fill (and re-derive) the file and vault index: the entries
/// of a set. The repository implements it; `Catalog.index(_:from:)` and `Catalog.rebuild(contents:)` call it.
public protocol SetContents: Sendable {
    /// Calls `visit` for every entry of `item` in `set` (directories included), in any order.
    func files(of set: SetRecord, item: ItemRecord, _ visit: (FileEntry) throws -> Void) throws
    /// Calls `visit` for every vault entry of `set` (none when the set has no vault index).
    func vaultFiles(of set: SetRecord, _ visit: (VaultEntry) throws -> Void) throws
}
