import Foundation
import LibPQ
import S3
import Support
import Vaulthalla

/// Puts S3 vaults' objects into the object store as Vaulthalla does with `encrypt_upstream`: the local
/// ciphertext unchanged, with the `x-amz-meta-vh-*` metadata, and the bucket manifest beside them.
struct S3Publisher {
    let client: S3Client

    init(_ settings: LabState.S3Settings) throws {
        guard let endpoint = URL(string: settings.endpoint) else {
            throw OperatorError.badInput("S3 endpoint '\(settings.endpoint)' is not a URL", remedy: "pass --s3-endpoint http://HOST:PORT")
        }
        client = S3Client(endpoint: endpoint, region: settings.region,
                          credentials: S3Credentials(accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey),
                          pathStyle: true)
    }

    /// `vh-<database>-<vault id>`: unique per lab host in a shared object store.
    static func bucketName(database: String, vaultID: Int) -> String {
        let cleaned = database.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber ? $0 : "-" }
        return String("vh-\(String(cleaned))-\(vaultID)".prefix(63))
    }

    func ensureBucket(_ bucket: String) async throws {
        try await client.createBucket(bucket)
    }

    func put(bucket: String, key: String, stored: StoredBody, version: Int) async throws -> String {
        try await client.putObject(bucket: bucket, key: key, data: stored.body,
                                   metadata: BucketManifest.objectMetadata(iv: stored.iv, keyVersion: version,
                                                                           contentHash: stored.contentHash))
    }

    func delete(bucket: String, key: String) async throws {
        try await client.deleteObject(bucket: bucket, key: key)
    }

    /// What is wrong with the object of a file (nil when it carries the body and Vaulthalla's metadata).
    func verify(bucket: String, key: String, body: Data, file: VaulthallaDatabase.FileEntry) async throws -> String? {
        guard let object = try await client.getObjectIfPresent(bucket: bucket, key: key) else { return "is missing" }
        if object.data != body { return "differs from the local body" }
        let expected = BucketManifest.objectMetadata(iv: file.encryptionIV ?? "", keyVersion: file.keyVersion ?? 0,
                                                     contentHash: file.contentHash ?? "")
        for (name, value) in expected where object.info.metadata[name] != value {
            return "metadata \(name) is \(object.info.metadata[name] ?? "missing"), not \(value)"
        }
        return nil
    }

    /// What is wrong with a bucket's manifest (nil when it lists one object per file of the vault).
    func verifyManifest(bucket: String, vaultID: Int, files: Int) async throws -> String? {
        guard let object = try await client.getObjectIfPresent(bucket: bucket, key: Defaults.bucketManifestKey) else { return "is missing" }
        let manifest = try BucketManifest.parse(object.data)
        if manifest.vaultID != vaultID { return "names vault \(manifest.vaultID)" }
        if manifest.objectCount != files || manifest.objects.count != files {
            return "lists \(manifest.objects.count) objects for \(files) files"
        }
        return nil
    }

    /// Deletes every object of a bucket, and the bucket (for `destroy`).
    func empty(bucket: String) async throws {
        guard try await client.bucketExists(bucket) else { return }
        for object in try await client.listObjects(bucket: bucket) {
            try await client.deleteObject(bucket: bucket, key: object.key)
        }
        try await client.deleteBucket(bucket)
    }

    /// Writes `.vaulthalla/index-v1.json` from the vault's `remote_object_index` rows and records its state.
    func publishManifest(vault: LabVault, db: PGConnection, generation: Int64) async throws {
        guard let bucket = vault.bucket else { return }
        let rows = try db.query("""
            SELECT object_key, size_bytes, etag, encryption_iv, encrypted_with_key_version, content_hash,
                   to_char(last_modified AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS modified
            FROM remote_object_index WHERE vault_id = $1 ORDER BY object_key
            """, [String(vault.id)])
        let objects = (0..<rows.count).map { r in
            BucketManifest.Object(key: rows[r, "object_key"] ?? "", sizeBytes: Int64(rows[r, "size_bytes"] ?? "") ?? 0,
                                  lastModified: rows[r, "modified"] ?? "", contentHash: rows[r, "content_hash"], encrypted: true,
                                  iv: rows[r, "encryption_iv"], keyVersion: rows[r, "encrypted_with_key_version"].flatMap { Int($0) },
                                  etag: rows[r, "etag"])
        }
        let manifest = BucketManifest(vaultID: vault.id, generation: generation, generatedAt: UTCTime.string(Date()), objects: objects)
        _ = try await client.putObject(bucket: bucket, key: Defaults.bucketManifestKey,
                                       data: try JSONFormat.encoder().encode(manifest), metadata: [:])
        _ = try db.query("""
            INSERT INTO remote_manifest_state (vault_id, generation, object_count, object_checksum, generated_at)
            VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (vault_id) DO UPDATE SET generation = $2, object_count = $3, object_checksum = $4, generated_at = now()
            """, [String(vault.id), String(generation), String(objects.count), manifest.objectChecksum])
    }
}
