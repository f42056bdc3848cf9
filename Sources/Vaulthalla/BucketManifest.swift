import Foundation
import Support

/// `.vaulthalla/index-v1.json`, the manifest newer versions keep in each S3 vault's bucket.
public struct BucketManifest: Codable, Sendable, Equatable {
    public var version: Int
    public var vaultID: Int
    public var producer: String
    public var generation: Int64
    public var generatedAt: String
    public var objectCount: Int
    public var objectChecksum: String
    public var objects: [Object]

    public init(vaultID: Int, generation: Int64, generatedAt: String, objects: [Object]) {
        version = 1
        self.vaultID = vaultID
        producer = "vaulthalla"
        self.generation = generation
        self.generatedAt = generatedAt
        objectCount = objects.count
        objectChecksum = Self.checksum(objects)
        self.objects = objects
    }

    enum CodingKeys: String, CodingKey {
        case version, producer, generation, objects
        case vaultID = "vault_id"
        case generatedAt = "generated_at"
        case objectCount = "object_count"
        case objectChecksum = "object_checksum"
    }

    public struct Object: Codable, Sendable, Equatable {
        public var key: String
        public var sizeBytes: Int64
        public var lastModified: String
        public var contentHash: String?
        public var encrypted: Bool
        public var iv: String?
        public var keyVersion: Int?
        public var etag: String?
        public var versionID: String?
        public var sequencer: String?
        public var storageClass: String
        public var restoreStatus: String?

        public init(key: String, sizeBytes: Int64, lastModified: String, contentHash: String?, encrypted: Bool,
                    iv: String?, keyVersion: Int?, etag: String?) {
            self.key = key
            self.sizeBytes = sizeBytes
            self.lastModified = lastModified
            self.contentHash = contentHash
            self.encrypted = encrypted
            self.iv = iv
            self.keyVersion = keyVersion
            self.etag = etag
            storageClass = "STANDARD"
        }

        enum CodingKeys: String, CodingKey {
            case key, encrypted, iv, etag, sequencer
            case sizeBytes = "size_bytes"
            case lastModified = "last_modified"
            case contentHash = "content_hash"
            case keyVersion = "key_version"
            case versionID = "version_id"
            case storageClass = "storage_class"
            case restoreStatus = "restore_status"
        }
    }

    /// The user metadata an encrypted upstream object carries (without the `x-amz-meta-` prefix).
    public static func objectMetadata(iv: String, keyVersion: Int, contentHash: String) -> [String: String] {
        ["vh-encrypted": "true", "vh-iv": iv, "vh-key-version": String(keyVersion), "vh-algo": "aes256gcm",
         "content-hash": contentHash]
    }

    /// SHA-256 (hex) over `key \t content_hash \n` of the objects sorted by key.
    static func checksum(_ objects: [Object]) -> String {
        let lines = objects.sorted { $0.key < $1.key }.map { "\($0.key)\t\($0.contentHash ?? "")\n" }.joined()
        return ContentHash.sha256Hex(Data(lines.utf8))
    }

    public static func parse(_ data: Data) throws -> BucketManifest {
        do { return try JSONDecoder().decode(BucketManifest.self, from: data) } catch {
            throw OperatorError.failed("\(Defaults.bucketManifestKey) is not a Vaulthalla bucket manifest",
                                       remedy: "check the bucket; Valkyrie backs the objects up either way")
        }
    }
}
