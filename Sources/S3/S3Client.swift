import Crypto
import Foundation
import Support
import Synchronization
import TLS

/// A client for S3-compatible object storage (AWS S3, R2, MinIO, moto, ...): SigV4-signed requests over
/// HTTP/1.1 (TLS for https, verified against the system's CAs or `caFile`), retries with jittered backoff,
/// multipart upload for large objects. Proxy environment variables are not used.
///
/// Every failure is an `OperatorError` naming the operation, the `s3://bucket/key`, the endpoint and S3's
/// error code; none carries the secret key, the session token or a signature.
public final class S3Client: Sendable {
    public let endpoint: URL
    public let region: String
    /// `endpoint/bucket/key` (path style, what MinIO and moto expect) or `bucket.endpoint/key`.
    public let pathStyle: Bool
    public let retry: RetryPolicy
    public let multipart: MultipartPolicy
    /// PEM CA certificates trusted for an https endpoint in place of the system's (a private CA).
    public let caFile: String?
    let credentials: S3Credentials
    /// Made at the first https request, then shared by all: commands that never reach S3 never load CAs.
    private let tls = Mutex<TLSContext?>(nil)

    public init(endpoint: URL, region: String, credentials: S3Credentials, pathStyle: Bool = true,
                retry: RetryPolicy = .standard, multipart: MultipartPolicy = .standard, caFile: String? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.pathStyle = pathStyle
        self.retry = retry
        self.multipart = multipart
        self.caFile = caFile
    }

    /// The TLS context for an https endpoint, nil for http. A CA file that cannot be loaded is bad input.
    func tlsContext() throws -> TLSContext? {
        guard endpoint.scheme == "https" else { return nil }
        return try tls.withLock { cached in
            if let cached { return cached }
            do {
                let context = try TLSContext(caFile: caFile)
                cached = context
                return context
            } catch let failure as TLSFailure {
                throw OperatorError.badInput("S3 endpoint \(endpoint.absoluteString): \(failure.detail)",
                                             remedy: caFile == nil ? "install the system's CA certificates (package ca-certificates)"
                                                 : "set ca_file to a readable PEM file of the endpoint's CA certificates")
            }
        }
    }

    // MARK: Buckets

    /// Creates `bucket` in this client's region; a bucket that already exists and is ours is fine.
    public func createBucket(_ bucket: String) async throws {
        var body = Data()
        if region != "us-east-1" {
            body = Data(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(S3XML.escape(region))</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        let result = try await performRaw(S3Request(operation: "CreateBucket", method: "PUT", bucket: bucket, body: body))
        if case let .failure(failed) = result, failed.failure.code != "BucketAlreadyOwnedByYou" {
            throw failed.failure.operatorError("CreateBucket", endpoint: endpoint, bucket: bucket, key: nil,
                                               attempts: failed.attempts)
        }
    }

    public func bucketExists(_ bucket: String) async throws -> Bool {
        switch try await performRaw(S3Request(operation: "HeadBucket", method: "HEAD", bucket: bucket)) {
        case .success: return true
        case let .failure(failed) where failed.failure.status == 404: return false
        case let .failure(failed):
            throw failed.failure.operatorError("HeadBucket", endpoint: endpoint, bucket: bucket, key: nil,
                                               attempts: failed.attempts)
        }
    }

    /// Deletes an empty bucket.
    public func deleteBucket(_ bucket: String) async throws {
        _ = try await perform(S3Request(operation: "DeleteBucket", method: "DELETE", bucket: bucket))
    }

    // MARK: Objects

    /// Stores `data` under `key` with user metadata (sent as `x-amz-meta-<name>`; names are lower-cased, values
    /// must be printable ASCII) and returns the ETag. Objects over `multipart.threshold` go up in parts.
    /// S3 makes the object visible only once it is complete: readers see all of it or none.
    @discardableResult
    public func putObject(bucket: String, key: String, data: Data, metadata: [String: String] = [:]) async throws -> String {
        let headers = try metadataHeaders(metadata, bucket: bucket, key: key)
        if data.count > multipart.threshold {
            return try await putMultipart(bucket: bucket, key: key, data: data, headers: headers)
        }
        var request = S3Request(operation: "PutObject", method: "PUT", bucket: bucket, key: key, headers: headers, body: data)
        request.headers["content-md5"] = Self.contentMD5(data)
        let response = try await perform(request)
        return Self.unquote(response.headers["etag"] ?? "")
    }

    /// The object, or `range` of it (`offset..<offset+length`). A missing object or bucket is an error.
    public func getObject(bucket: String, key: String, range: Range<Int>? = nil) async throws -> S3Object {
        guard let object = try await getObjectIfPresent(bucket: bucket, key: key, range: range) else {
            throw S3Failure(kind: .service(status: 404, code: "NoSuchKey", message: "The specified key does not exist."))
                .operatorError("GetObject", endpoint: endpoint, bucket: bucket, key: key, attempts: 1)
        }
        return object
    }

    /// Like `getObject`, but nil when the key does not exist (a missing bucket is still an error).
    public func getObjectIfPresent(bucket: String, key: String, range: Range<Int>? = nil) async throws -> S3Object? {
        var request = S3Request(operation: "GetObject", method: "GET", bucket: bucket, key: key)
        if let range {
            guard !range.isEmpty else {
                guard let info = try await headObject(bucket: bucket, key: key) else { return nil }
                return S3Object(data: Data(), info: info)
            }
            request.headers["range"] = "bytes=\(range.lowerBound)-\(range.upperBound - 1)"
        }
        switch try await performRaw(request) {
        case let .success(response):
            if let range, response.status != 206 || response.body.count != range.count {
                throw OperatorError.failed(
                    "S3 GetObject of s3://\(bucket)/\(key) at \(endpoint.absoluteString) returned \(response.body.count) bytes for range \(range.lowerBound)..<\(range.upperBound)",
                    remedy: "the range lies beyond the end of the object, or the service ignored the Range header")
            }
            return S3Object(data: response.body, info: info(key: key, response))
        case let .failure(failed) where failed.failure.code == "NoSuchKey":
            return nil
        case let .failure(failed):
            throw failed.failure.operatorError("GetObject", endpoint: endpoint, bucket: bucket, key: key,
                                               attempts: failed.attempts)
        }
    }

    /// Size, ETag, last-modified and user metadata of the object, or nil when it does not exist. A missing
    /// bucket is an error: HEAD answers it with the same bare 404, so a miss is followed by a bucket check.
    public func headObject(bucket: String, key: String) async throws -> S3ObjectInfo? {
        switch try await performRaw(S3Request(operation: "HeadObject", method: "HEAD", bucket: bucket, key: key)) {
        case let .success(response): return info(key: key, response)
        case let .failure(failed) where failed.failure.status == 404:
            guard try await bucketExists(bucket) else {
                throw S3Failure(kind: .service(status: 404, code: "NoSuchBucket", message: "The specified bucket does not exist"))
                    .operatorError("HeadObject", endpoint: endpoint, bucket: bucket, key: key, attempts: failed.attempts)
            }
            return nil
        case let .failure(failed):
            throw failed.failure.operatorError("HeadObject", endpoint: endpoint, bucket: bucket, key: key,
                                               attempts: failed.attempts)
        }
    }

    /// Every object whose key starts with `prefix`, in key order, across all pages (ListObjectsV2).
    public func listObjects(bucket: String, prefix: String = "") async throws -> [S3ListedObject] {
        var objects: [S3ListedObject] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await perform(S3Request(operation: "ListObjectsV2", method: "GET", bucket: bucket, query: query))
            guard let result = S3XML.parse(response.body), result.name == "ListBucketResult" else {
                throw OperatorError.failed("S3 ListObjectsV2 of s3://\(bucket)/\(prefix) at \(endpoint.absoluteString) returned an unreadable listing",
                                           remedy: "check that the endpoint is an S3-compatible service")
            }
            for entry in result.all("Contents") {
                guard let key = entry["Key"]?.text, let size = entry["Size"].flatMap({ Int($0.text) }) else { continue }
                objects.append(S3ListedObject(key: key, size: size, etag: Self.unquote(entry["ETag"]?.text ?? ""),
                                              lastModified: entry["LastModified"].flatMap { UTCTime.parse($0.text) }))
            }
            token = result["IsTruncated"]?.text == "true" ? result["NextContinuationToken"]?.text : nil
            if result["IsTruncated"]?.text == "true", token?.isEmpty ?? true {
                throw OperatorError.failed("S3 ListObjectsV2 of s3://\(bucket)/\(prefix) at \(endpoint.absoluteString) is truncated without a continuation token",
                                           remedy: "the service does not page ListObjectsV2 correctly")
            }
        } while token != nil
        return objects
    }

    /// Removes the object; removing a missing object is not an error (S3 answers 204 either way).
    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await perform(S3Request(operation: "DeleteObject", method: "DELETE", bucket: bucket, key: key))
    }

    // MARK: Helpers

    private func metadataHeaders(_ metadata: [String: String], bucket: String, key: String) throws -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in metadata {
            let name = name.lowercased()
            let token = name.utf8.allSatisfy { $0 > 32 && $0 < 127 && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }
            guard !name.isEmpty, token, value.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) else {
                throw OperatorError.badInput("S3 metadata \(name) for s3://\(bucket)/\(key) is not a plain-ASCII header name and value",
                                             remedy: "use ASCII names without separators and printable ASCII values")
            }
            headers["x-amz-meta-\(name)"] = value
        }
        return headers
    }

    private func info(key: String, _ response: S3Response) -> S3ObjectInfo {
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        // A ranged answer names the whole object's size after the slash of Content-Range.
        let size = response.headers["content-range"].flatMap { $0.split(separator: "/").last.flatMap { Int($0) } }
            ?? response.headers["content-length"].flatMap { Int($0) } ?? response.body.count
        return S3ObjectInfo(key: key, size: size, etag: Self.unquote(response.headers["etag"] ?? ""),
                            lastModified: response.headers["last-modified"].flatMap(Self.httpDate), metadata: metadata)
    }

    static func unquote(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func contentMD5(_ data: Data) -> String {
        Data(Insecure.MD5.hash(data: data)).base64EncodedString()
    }

    /// `Wed, 12 Oct 2009 17:50:00 GMT`
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// An object's bytes (all of them, or the range asked for) and what S3 says about it.
public struct S3Object: Sendable, Equatable {
    public var data: Data
    public var info: S3ObjectInfo
}

public struct S3ObjectInfo: Sendable, Equatable {
    public var key: String
    /// The whole object's size, also for a ranged read.
    public var size: Int
    /// Without quotes. For multipart objects it is not an MD5 of the content (it ends in `-<parts>`).
    public var etag: String
    public var lastModified: Date?
    /// User metadata (`x-amz-meta-<name>`), names lower-case.
    public var metadata: [String: String]
}

public struct S3ListedObject: Sendable, Equatable, Hashable {
    public var key: String
    public var size: Int
    public var etag: String
    public var lastModified: Date?
}
