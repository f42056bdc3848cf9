import Crypto
import Foundation
import Support

/// When and how an object is uploaded in parts.
public struct MultipartPolicy: Sendable, Equatable {
    /// S3's smallest allowed part (all but the last).
    public static let minimumPartSize = 5 * 1024 * 1024

    /// Objects larger than this go up in parts.
    public var threshold: Int
    /// Size of every part but the last; raised to S3's 5 MiB minimum.
    public var partSize: Int

    public init(threshold: Int = 16 * 1024 * 1024, partSize: Int = 8 * 1024 * 1024) {
        self.threshold = max(0, threshold)
        self.partSize = max(partSize, Self.minimumPartSize)
    }

    public static let standard = MultipartPolicy()
}

extension S3Client {
    /// CreateMultipartUpload, UploadPart for each slice, CompleteMultipartUpload. On any failure the upload is
    /// aborted so no orphaned parts keep costing storage, and the original error is thrown.
    func putMultipart(bucket: String, key: String, data: Data, headers: [String: String]) async throws -> String {
        // Retrying the create is harmless: a lost answer leaves an empty upload that holds no object, and bucket
        // lifecycle rules for incomplete uploads clear it.
        let created = try await perform(S3Request(operation: "CreateMultipartUpload", method: "POST", bucket: bucket,
                                                  key: key, query: [("uploads", "")], headers: headers))
        guard let uploadID = S3XML.parse(created.body)?["UploadId"]?.text, !uploadID.isEmpty else {
            throw OperatorError.failed("S3 CreateMultipartUpload of s3://\(bucket)/\(key) at \(endpoint.absoluteString) returned no upload id",
                                       remedy: "check that the endpoint is an S3-compatible service")
        }
        do {
            var parts: [(number: Int, etag: String)] = []
            var digests = Data()
            for (index, offset) in stride(from: 0, to: data.count, by: multipart.partSize).enumerated() {
                try Task.checkCancellation()
                let slice = data.subdata(in: offset..<min(offset + multipart.partSize, data.count))
                let digest = Data(Insecure.MD5.hash(data: slice))
                digests.append(digest)
                // Re-sending a part replaces it with the same bytes: UploadPart is idempotent.
                let response = try await perform(S3Request(
                    operation: "UploadPart", method: "PUT", bucket: bucket, key: key,
                    query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                    headers: ["content-md5": digest.base64EncodedString()], body: slice))
                parts.append((index + 1, Self.unquote(response.headers["etag"] ?? "")))
            }
            let expected = SigV4.hex(Data(Insecure.MD5.hash(data: digests))) + "-\(parts.count)"
            return try await complete(bucket: bucket, key: key, uploadID: uploadID, parts: parts, expectedETag: expected)
        } catch {
            // Best effort: the upload's failure is what the operator needs to see, not the abort's.
            _ = try? await performRaw(S3Request(operation: "AbortMultipartUpload", method: "DELETE", bucket: bucket,
                                                key: key, query: [("uploadId", uploadID)]))
            throw error
        }
    }

    /// Multipart uploads begun in `bucket` and neither completed nor aborted (ListMultipartUploads, first page
    /// of up to 1000): what a crashed writer left behind.
    public func unfinishedUploads(bucket: String) async throws -> [(key: String, uploadID: String)] {
        let response = try await perform(S3Request(operation: "ListMultipartUploads", method: "GET", bucket: bucket,
                                                   query: [("uploads", "")]))
        return (S3XML.parse(response.body)?.all("Upload") ?? []).compactMap { upload in
            guard let key = upload["Key"]?.text, let id = upload["UploadId"]?.text else { return nil }
            return (key, id)
        }
    }

    /// CompleteMultipartUpload, made safe to retry: when an earlier attempt completed the upload but its answer
    /// was lost, the retry finds no upload; the object is then accepted if its ETag is the one these parts give.
    private func complete(bucket: String, key: String, uploadID: String, parts: [(number: Int, etag: String)],
                          expectedETag: String) async throws -> String {
        let body = "<CompleteMultipartUpload>"
            + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\"\(S3XML.escape($0.etag))\"</ETag></Part>" }.joined()
            + "</CompleteMultipartUpload>"
        let request = S3Request(operation: "CompleteMultipartUpload", method: "POST", bucket: bucket, key: key,
                                query: [("uploadId", uploadID)], headers: ["content-type": "application/xml"],
                                body: Data(body.utf8))
        switch try await performRaw(request) {
        case let .success(response):
            return S3XML.parse(response.body)?["ETag"].map { Self.unquote($0.text) } ?? expectedETag
        case let .failure(failed):
            if failed.failure.code == "NoSuchUpload", failed.attempts > 1,
               let info = try await headObject(bucket: bucket, key: key), info.etag == expectedETag {
                return info.etag
            }
            throw failed.failure.operatorError("CompleteMultipartUpload", endpoint: endpoint, bucket: bucket, key: key,
                                               attempts: failed.attempts)
        }
    }
}
