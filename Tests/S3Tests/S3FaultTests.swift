import Foundation
import Support
import Testing
@testable import S3

/// The client through `fault_proxy.py`: about 5% of requests answered 500/503 without reaching moto and 2%
/// cut off halfway through the answer. Every operation must still complete with the right bytes.
@Suite struct S3FaultTests {
    @Test func everyOperationCompletesThroughInjectedFaults() async throws {
        let upstream = try MotoS3.endpoint()
        let bucket = MotoS3.uniqueBucket("faults")
        try await MotoS3.client().createBucket(bucket)
        do {
            try await FaultProxy.with(upstream: upstream, seed: 4) { proxy in
                let client = try MotoS3.client(endpoint: proxy.endpoint,
                                               multipart: MultipartPolicy(threshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024))
                let objects = (0..<120).map { index in
                    (key: "faults/\(index % 5)/object \(index)", data: MotoS3.random(1024 + (index * 7919) % 262_144, seed: UInt64(index)))
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for lane in 0..<4 {
                        group.addTask {
                            for object in objects.enumerated() where object.offset % 4 == lane {
                                try await client.putObject(bucket: bucket, key: object.element.key, data: object.element.data,
                                                           metadata: ["lane": String(lane)])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let big = MotoS3.random(21 * 1024 * 1024, seed: 99)
                let bigETag = try await client.putObject(bucket: bucket, key: "faults/big", data: big)
                #expect(bigETag.hasSuffix("-5"))

                for round in 0..<2 {
                    for object in objects {
                        let got = try await client.getObject(bucket: bucket, key: object.key)
                        #expect(got.data == object.data, "round \(round): bytes of \(object.key)")
                    }
                    let listed = try await client.listObjects(bucket: bucket, prefix: "faults/")
                    #expect(Set(listed.map(\.key)) == Set(objects.map(\.key) + ["faults/big"]))
                }
                for offset in stride(from: 0, to: big.count, by: 3 * 1024 * 1024) {
                    let range = offset..<min(offset + 100_000, big.count)
                    #expect(try await client.getObject(bucket: bucket, key: "faults/big", range: range).data == big.subdata(in: range))
                }
                #expect(try await client.getObject(bucket: bucket, key: "faults/big").data == big)
                for object in objects.prefix(40) {
                    try await client.deleteObject(bucket: bucket, key: object.key)
                    #expect(try await client.headObject(bucket: bucket, key: object.key) == nil)
                }

                let counts = try await proxy.counts()
                #expect(counts.failed > 0, "faults were injected: \(counts)")
                #expect(counts.cut > 0, "connections were cut: \(counts)")
            }
            try await MotoS3.removeBucket(bucket)
        } catch {
            try? await MotoS3.removeBucket(bucket)
            throw error
        }
    }

    @Test func aStalledAttemptIsAbandonedAndRetried() async throws {
        try await MotoS3.withBucket("stall") { _, bucket in
            try await FaultProxy.with(upstream: try MotoS3.endpoint(), failRate: 0, cutRate: 0, stallFirst: 2) { proxy in
                // 3 s, not less: on a loaded machine moto itself can take over a second to answer a healthy attempt.
                let retry = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20),
                                        maxElapsed: .seconds(120), stallTimeout: .seconds(3))
                let client = try MotoS3.client(endpoint: proxy.endpoint, retry: retry)
                let data = MotoS3.random(50_000, seed: 12)
                try await client.putObject(bucket: bucket, key: "after-a-stall", data: data)
                #expect(try await client.getObject(bucket: bucket, key: "after-a-stall").data == data)
                let counts = try await proxy.counts()
                // Two stalled attempts, then the PUT and the GET (more only if a healthy attempt was slow).
                #expect((counts.seen ?? 0) >= 4, "two stalled attempts, then the PUT and the GET: \(counts)")
            }
        }
    }

    @Test func persistentServerErrorsGiveUpWithAClearError() async throws {
        try await FaultProxy.with(upstream: try MotoS3.endpoint(), failRate: 1.0, cutRate: 0) { proxy in
            // Only the attempt count may end it: a loaded machine must not turn this into a time-out.
            let retry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), maxElapsed: .seconds(3600))
            let client = try MotoS3.client(endpoint: proxy.endpoint, retry: retry)
            await #expect {
                try await client.putObject(bucket: "any-bucket", key: "k", data: Data("x".utf8))
            } throws: { error in
                isOperatorError(error, status: .failed, mentioning: "after 4 attempts", "s3://any-bucket/k")
                    && ((error as? OperatorError)?.problem.contains("InternalError") == true
                        || (error as? OperatorError)?.problem.contains("SlowDown") == true)
            }
            let counts = try await proxy.counts()
            #expect(counts.requests == 4, "exactly maxAttempts tries")
        }
    }
}
