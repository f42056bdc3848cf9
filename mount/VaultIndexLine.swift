import Catalog
import Foundation

/// One line of a set's `valkyrie/vault-index.jsonl`: a vault file or directory by its logical path, and where
/// its body is in the set (`backing_path`, a path in the set such as `/var/lib/vaulthalla/...` or
/// `/s3/<vault>/<key>`).
public struct VaultIndexLine: Codable, Sendable, Equatable {
    public var vault: String
    public var path: String
    public var kind: EntryKind
    public var backingPath: String?
    /// Plaintext size, as Vaulthalla records it.
    public var size: Int64
    public var iv: String?
    public var keyVersion: Int?
    public var contentHash: String?
    public var format: Int?

    public init(vault: String, path: String, kind: EntryKind, backingPath: String? = nil, size: Int64 = 0,
                iv: String? = nil, keyVersion: Int? = nil, contentHash: String? = nil, format: Int? = nil) {
        self.vault = vault; self.path = path; self.kind = kind; self.backingPath = backingPath; self.size = size
        self.iv = iv; self.keyVersion = keyVersion; self.contentHash = contentHash; self.format = format
    }

    enum CodingKeys: String, CodingKey {
        case vault, path, kind, size, iv, format
        case backingPath = "backing_path"
        case keyVersion = "key_version"
        case contentHash = "content_hash"
    }
}
