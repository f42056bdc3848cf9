import Catalog
import Foundation

/// One line of the test sets' `valkyrie/vault-index.jsonl` (backup writes its own; the mount reads only the index).
struct VaultIndexLine: Codable, Sendable, Equatable {
    var vault: String
    var path: String
    var kind: EntryKind
    var backingPath: String?
    /// Plaintext size, as Vaulthalla records it.
    var size: Int64
    var iv: String?
    var keyVersion: Int?
    var contentHash: String?
    var format: Int?

    init(vault: String, path: String, kind: EntryKind, backingPath: String? = nil, size: Int64 = 0,
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
