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
                credentials: S3Credentials? = nil, retry: RetryPolicy = .standard, caFile: String? = nil) throws {
        let (bucket, prefix) = try Self.parse(location)
        let client = S3Client(endpoint: endpoint, region: region, credentials: try credentials ?? .fromEnvironment(),
                              pathStyle: pathStyle, retry: retry, caFile: caFile)
        self.init(client: client, bucket: bucket, prefix: prefix)
    }

    /// From a location and the operator's settings, with defaults: region from the settings, then
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, `us-east-1`; endpoint AWS's regional one (virtual-host style) unless
    /// given (then path style, as MinIO, R2 and moto expect, unless `pathStyle` says otherwise); credentials
    /// from the settings when both keys are there, else from the environment.
    public init(location: String, settings: S3BackendSettings,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let region = settings.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpointText = settings.endpoint ?? "https://s3.\(region).amazonaws.com"
        guard let endpoint = URL(string: endpointText), ["http", "https"].contains(endpoint.scheme ?? ""),
              endpoint.host?.isEmpty == false else {
            throw OperatorError.badInput("S3 endpoint \(endpointText) is not an http(s) URL with a host",
                                         remedy: "set s3.endpoint in the configuration to e.g. https://s3.eu-west-1.amazonaws.com")
        }
        let credentials: S3Credentials
        switch (settings.accessKeyID, settings.secretAccessKey) {
        case let (id?, secret?): credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret)
        case (nil, nil): credentials = try .fromEnvironment(environment)
        default:
            throw OperatorError.badInput("the configuration sets only one of s3.access_key_id and s3.secret_access_key",
                                         remedy: "set both, or neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        try self.init(location: location, endpoint: endpoint, region: region,
                      pathStyle: settings.pathStyle ?? (settings.endpoint != nil), credentials: credentials, caFile: settings.caFile)
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
            BackendObject(name: String($0.key.dropFirst(prefix.count)), size: $0.size, modified: $0.lastModified)
        }
    }

    public func delete(_ name: String) async throws {
        try await client.deleteObject(bucket: bucket, key: prefix + name)
    }
}

/// S3 settings as an operator writes them (configuration file); each one optional.
public struct S3BackendSettings: Sendable, Equatable {
    public var endpoint: String?
    public var region: String?
    public var pathStyle: Bool?
    /// PEM CA certificates trusted instead of the system's, for an endpoint with a private CA.
    public var caFile: String?
    public var accessKeyID: String?
    public var secretAccessKey: String?

    public init(endpoint: String? = nil, region: String? = nil, pathStyle: Bool? = nil, caFile: String? = nil,
                accessKeyID: String? = nil, secretAccessKey: String? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle
        self.caFile = caFile
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }
}
