import Crypto
import Foundation
import Support
import Testing
@testable import S3

/// The client against moto's S3 server on loopback: real HTTP, real signing, real XML.
@Suite struct S3ClientTests {
    static let awkwardKeys = [
        "plain",
        "dir/with space/and+plus=equals&amp",
        "ünïcødé/ключ/交付物.bin",
        "xml<special>&'\"chars",
        "tilde~percent%20literal",
        "emoji 🗝️ key",
    ]

    @Test func roundTripsDataMetadataAndUnicodeKeys() async throws {
        try await MotoS3.withBucket("roundtrip") { client, bucket in
            #expect(try await client.bucketExists(bucket))
            for (index, key) in Self.awkwardKeys.enumerated() {
                let data = MotoS3.random(1000 + index * 37, seed: UInt64(index))
                let metadata = ["vh-iv": "aXYtXzEyMw==", "vh-key-version": String(index), "Mixed-Case": "kept value"]
                let etag = try await client.putObject(bucket: bucket, key: key, data: data, metadata: metadata)
                #expect(etag == SigV4.hex(Data(Insecure.MD5.hash(data: data))), "a single PUT's ETag is its MD5")

                let object = try await client.getObject(bucket: bucket, key: key)
                #expect(object.data == data, "bytes of \(key)")
                #expect(object.info.etag == etag)
                #expect(object.info.size == data.count)
                #expect(object.info.metadata["vh-iv"] == "aXYtXzEyMw==")
                #expect(object.info.metadata["vh-key-version"] == String(index))
                #expect(object.info.metadata["mixed-case"] == "kept value")
                let lastModified = try #require(object.info.lastModified)
                #expect(abs(lastModified.timeIntervalSinceNow) < 600)

                let head = try #require(try await client.headObject(bucket: bucket, key: key))
                #expect(head.size == data.count && head.etag == etag && head.metadata == object.info.metadata)
            }
            let listed = try await client.listObjects(bucket: bucket)
            #expect(Set(listed.map(\.key)) == Set(Self.awkwardKeys))
            #expect(try await client.listObjects(bucket: bucket, prefix: "ünïcødé/").map(\.key) == ["ünïcødé/ключ/交付物.bin"])
            #expect(try await client.listObjects(bucket: bucket, prefix: "dir/with space/").count == 1)

            // Overwrite is a whole new object; delete makes it absent; deleting again is fine.
            try await client.putObject(bucket: bucket, key: "plain", data: Data("second".utf8))
            #expect(try await client.getObject(bucket: bucket, key: "plain").data == Data("second".utf8))
            for key in Self.awkwardKeys { try await client.deleteObject(bucket: bucket, key: key) }
            try await client.deleteObject(bucket: bucket, key: "plain")
            #expect(try await client.listObjects(bucket: bucket).isEmpty)
            #expect(try await client.headObject(bucket: bucket, key: "plain") == nil)
        }
    }

    @Test func emptyObjectsRoundTrip() async throws {
        try await MotoS3.withBucket("empty") { client, bucket in
            try await client.putObject(bucket: bucket, key: "empty", data: Data())
            let object = try await client.getObject(bucket: bucket, key: "empty")
            #expect(object.data.isEmpty && object.info.size == 0)
        }
    }

    @Test func listsMoreThanOnePageWithContinuationTokens() async throws {
        try await MotoS3.withBucket("paging") { client, bucket in
            let keys = (0..<1234).map { String(format: "data/%02x/%05d", $0 % 7, $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for slice in stride(from: 0, to: keys.count, by: 155) {
                    group.addTask {
                        for key in keys[slice..<min(slice + 155, keys.count)] {
                            try await client.putObject(bucket: bucket, key: key, data: Data(key.utf8))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let listed = try await client.listObjects(bucket: bucket, prefix: "data/")
            #expect(listed.count == 1234, "all pages of 1000 followed")
            #expect(Set(listed.map(\.key)) == Set(keys))
            #expect(listed.allSatisfy { $0.size == $0.key.utf8.count })
            let one = try await client.listObjects(bucket: bucket, prefix: "data/03/")
            #expect(Set(one.map(\.key)) == Set(keys.filter { $0.hasPrefix("data/03/") }))
            #expect(try await client.listObjects(bucket: bucket, prefix: "nothing/").isEmpty)
        }
    }

    @Test func rangeReadsReturnExactlyTheBytesAsked() async throws {
        try await MotoS3.withBucket("range") { client, bucket in
            let data = MotoS3.random(1_048_583, seed: 7)
            try await client.putObject(bucket: bucket, key: "blob", data: data)
            for range in [0..<1, 0..<4096, 500_000..<500_017, (data.count - 10)..<data.count, 0..<data.count] {
                let object = try await client.getObject(bucket: bucket, key: "blob", range: range)
                #expect(object.data == data.subdata(in: range), "range \(range)")
                #expect(object.info.size == data.count, "the whole object's size for range \(range)")
            }
            #expect(try await client.getObject(bucket: bucket, key: "blob", range: 10..<10).data.isEmpty)
            await #expect {
                try await client.getObject(bucket: bucket, key: "blob", range: (data.count + 5)..<(data.count + 10))
            } throws: { isOperatorError($0, mentioning: "s3://\(bucket)/blob") }
        }
    }

    @Test func largeObjectsGoUpInParts() async throws {
        try await MotoS3.withBucket("multipart") { client, bucket in
            let data = MotoS3.random(40 * 1024 * 1024 + 12_345, seed: 40)
            let etag = try await client.putObject(bucket: bucket, key: "packs/big", data: data, metadata: ["vh-part": "yes"])
            #expect(etag.hasSuffix("-6"), "40 MiB in 8 MiB parts is 6 parts, and the ETag says so: \(etag)")
            let object = try await client.getObject(bucket: bucket, key: "packs/big")
            #expect(object.data == data)
            #expect(object.info.metadata["vh-part"] == "yes")
            let tail = try await client.getObject(bucket: bucket, key: "packs/big", range: (data.count - 100)..<data.count)
            #expect(tail.data == data.suffix(100))
            // Just at the threshold stays a single PUT (its ETag is the MD5).
            let single = MotoS3.random(16 * 1024 * 1024, seed: 16)
            #expect(try await client.putObject(bucket: bucket, key: "packs/single", data: single)
                == SigV4.hex(Data(Insecure.MD5.hash(data: single))))
        }
    }

    @Test func missingBucketAndKeyAreClearErrors() async throws {
        let client = try MotoS3.client()
        let bucket = MotoS3.uniqueBucket("absent")
        #expect(try await client.bucketExists(bucket) == false)
        await #expect {
            try await client.getObject(bucket: bucket, key: "k")
        } throws: { isOperatorError($0, status: .usage, mentioning: "NoSuchBucket", "s3://\(bucket)/k", client.endpoint.absoluteString) }
        await #expect {
            try await client.putObject(bucket: bucket, key: "k", data: Data("x".utf8))
        } throws: { isOperatorError($0, status: .usage, mentioning: "NoSuchBucket", "PutObject") }
        await #expect {
            try await client.listObjects(bucket: bucket)
        } throws: { isOperatorError($0, status: .usage, mentioning: "NoSuchBucket", "ListObjectsV2") }

        try await MotoS3.withBucket("nokey") { client, bucket in
            #expect(try await client.headObject(bucket: bucket, key: "missing/key") == nil)
            #expect(try await client.getObjectIfPresent(bucket: bucket, key: "missing/key") == nil)
            await #expect {
                try await client.getObject(bucket: bucket, key: "missing/key")
            } throws: { isOperatorError($0, status: .failed, mentioning: "NoSuchKey", "s3://\(bucket)/missing/key") }
            try await client.deleteObject(bucket: bucket, key: "missing/key")
        }
    }

    @Test func refusedCredentialsAreClearErrorsWithoutTheSecret() async throws {
        // A refusal from the fault proxy, which counts requests: a 403 is answered at once, never retried.
        // (S3AuthenticationTests has a real verifier refuse wrong keys.)
        let secret = "never-shown-\(UUID().uuidString)"
        for code in ["AccessDenied"] {
            try await FaultProxy.with(upstream: try MotoS3.endpoint(), deny: code) { proxy in
                let client = S3Client(endpoint: proxy.endpoint, region: "us-east-1",
                                      credentials: S3Credentials(accessKeyID: "AKIAWRONG", secretAccessKey: secret),
                                      retry: MotoS3.testRetry)
                await #expect {
                    try await client.putObject(bucket: "some-bucket", key: "k", data: Data("x".utf8))
                } throws: { error in
                    guard let error = error as? OperatorError else { return false }
                    return error.status == .usage && error.problem.contains(code) && error.problem.contains("s3://some-bucket/k")
                        && !error.description.contains(secret) && !error.description.contains("Signature=")
                        && error.remedy?.contains("credentials") == true
                }
                let counts = try await proxy.counts()
                #expect(counts.requests == 1, "a refused request is not retried")
            }
        }
    }

    @Test func unreachableEndpointFailsAfterBoundedRetries() async throws {
        // A port nothing listens on: connection refused on every attempt.
        let client = S3Client(endpoint: URL(string: "http://127.0.0.1:9")!, region: "us-east-1",
                              credentials: try MotoS3.credentials(),
                              retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20), maxElapsed: .seconds(30)))
        await #expect {
            try await client.getObject(bucket: "b", key: "k")
        } throws: { isOperatorError($0, status: .failed, mentioning: "after 3 attempts", "http://127.0.0.1:9") }
    }
}

@Suite struct S3MultipartFailureTests {
    @Test func aFailedPartAbortsTheUpload() async throws {
        try await MotoS3.withBucket("abort") { direct, bucket in
            try await FaultProxy.with(upstream: try MotoS3.endpoint(), failRate: 0, cutRate: 0, deny: "AccessDenied",
                                      denyMatching: "partNumber=2&") { proxy in
                let client = try MotoS3.client(endpoint: proxy.endpoint,
                                               multipart: MultipartPolicy(threshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024))
                await #expect {
                    try await client.putObject(bucket: bucket, key: "packs/doomed", data: MotoS3.random(12 * 1024 * 1024, seed: 3))
                } throws: { isOperatorError($0, status: .usage, mentioning: "UploadPart", "AccessDenied", "s3://\(bucket)/packs/doomed") }
            }
            #expect(try await direct.headObject(bucket: bucket, key: "packs/doomed") == nil, "no object appeared")
            #expect(try await direct.unfinishedUploads(bucket: bucket).isEmpty, "the upload was aborted, its parts freed")
        }
    }
}
