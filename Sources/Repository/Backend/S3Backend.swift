import Foundation
import S3
import Support

/// A repository in an S3-compatible bucket, under an optional key prefix: `s3://bucket/prefix`.
///
/// Names map to keys `prefix/name`. `put` is one S3 PUT (or one multipart upload, completed in a single
/// step), which S3 makes visible all at once: readers see the whole object or none, never a partial one.
/// S3 itself would let a second PUT replace an object while someone reads it; the repository never does
/// that, because every object it writes has a new name (packs and index files are named by their content,
/// manifests by a fresh id), so a reader never meets a name that changes under it.
public struct S3Backend: Backend {
    public let client: S3Client
    public let bucket: String
    /// Empty, or ending in `/`.
    public let prefix: String

    public var location: String { "s3://\(bucket)/\(prefix)" }

    public init(client: S3Client, bucket: String, prefix: String = "") {
        self.client = client
        self.bucket = bucket
        let trimmed = prefix.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        self.prefix = trimmed.isEmpty ? "" : trimmed + "/"
    }

    /// From a location `s3://bucket/prefix` and the endpoint settings; credentials from the environment
    /// (`AWS_ACCESS_KEY_ID`, ...) unless given.
    public init(location: String, endpoint: URL, region: String, pathStyle: Bool = true,
                credentials: S3Credentials? = nil, retry: RetryPolicy = .standard) throws {
        let (bucket, prefix) = try Self.parse(location)
        let client = S3Client(endpoint: endpoint, region: region, credentials: try credentials ?? .fromEnvironment(),
                              pathStyle: pathStyle, retry: retry)
        self.init(client: client, bucket: bucket, prefix: prefix)
    }

    /// Splits `s3://bucket/some/prefix` into the bucket and the prefix.
    public static func parse(_ location: String) throws -> (bucket: String, prefix: String) {
        guard location.hasPrefix("s3://") else {
            throw OperatorError.badInput("repository location \(location) is not an s3:// URL",
                                         remedy: "write it as s3://bucket or s3://bucket/prefix")
        }
        let rest = location.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let valid = bucket.count >= 3 && bucket.count <= 63
            && bucket.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
        guard valid else {
            throw OperatorError.badInput("repository location \(location) has no valid bucket name",
                                         remedy: "S3 bucket names are 3 to 63 lower-case letters, digits, dots and hyphens")
        }
        return (bucket, String(rest.dropFirst(bucket.count)))
    }

    public func put(_ name: String, _ data: Data) async throws {
        try await client.putObject(bucket: bucket, key: prefix + name, data: data)
    }

    public func get(_ name: String) async throws -> Data {
        guard let object = try await client.getObjectIfPresent(bucket: bucket, key: prefix + name) else {
            throw BackendError.notFound(location: location, name: name)
        }
        return object.data
    }

    public func get(_ name: String, offset: Int, length: Int) async throws -> Data {
        guard offset >= 0, length >= 0 else {
            throw OperatorError.failed("\(location): invalid range \(offset)+\(length) of \(name)")
        }
        guard let object = try await client.getObjectIfPresent(bucket: bucket, key: prefix + name,
                                                               range: offset..<(offset + length)) else {
            throw BackendError.notFound(location: location, name: name)
        }
        return object.data
    }

    public func size(_ name: String) async throws -> Int? {
        try await client.headObject(bucket: bucket, key: prefix + name)?.size
    }

    public func list(prefix namePrefix: String) async throws -> [BackendObject] {
        try await client.listObjects(bucket: bucket, prefix: prefix + namePrefix).map {
            BackendObject(name: String($0.key.dropFirst(prefix.count)), size: $0.size)
        }
    }

    public func delete(_ name: String) async throws {
        try await client.deleteObject(bucket: bucket, key: prefix + name)
    }
}
