import Foundation
import Repository
import S3
import Support
import Testing

/// The same behaviour asked of every `Backend`: a local folder and an S3 bucket (on moto, under a prefix,
/// beside an object outside the prefix that must never show).
@Suite struct BackendConformanceTests {
    enum Kind: String, CaseIterable, Sendable { case local, s3 }

    /// A fresh, empty backend of `kind`, removed again after `body`, also when it throws.
    static func withBackend(_ kind: Kind, _ body: (any Backend) async throws -> Void) async throws {
        switch kind {
        case .local:
            let folder = NSTemporaryDirectory() + "valkyrie-backend-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await body(LocalBackend(path: folder))
        case .s3:
            try await MotoS3.withBucket("backend") { client, bucket in
                try await client.putObject(bucket: bucket, key: "outside-the-prefix", data: Data("x".utf8))
                try await body(S3Backend(client: client, bucket: bucket, prefix: "/repos/one/"))
            }
        }
    }

    static func isNotFound(_ error: any Error, _ backend: any Backend, _ name: String) -> Bool {
        (error as? BackendError) == .notFound(location: backend.location, name: name)
    }

    @Test(arguments: Kind.allCases)
    func putThenGetReturnsTheSameBytes(_ kind: Kind) async throws {
        try await Self.withBackend(kind) { backend in
            let objects = [
                "config": Data("{\"version\":1}".utf8),
                "keys/0123abcd": MotoS3.random(333, seed: 1),
                "data/ab/ab01ff": MotoS3.random(1_200_000, seed: 2),
                "empty": Data(),
            ]
            for (name, data) in objects { try await backend.put(name, data) }
            for (name, data) in objects {
                #expect(try await backend.get(name) == data, "\(kind): \(name)")
                #expect(try await backend.size(name) == data.count)
            }
            // Writing the same content-addressed name again is harmless.
            try await backend.put("keys/0123abcd", objects["keys/0123abcd"]!)
            #expect(try await backend.get("keys/0123abcd") == objects["keys/0123abcd"]!)
        }
    }

    @Test(arguments: Kind.allCases)
    func rangeReadsAreExact(_ kind: Kind) async throws {
        try await Self.withBackend(kind) { backend in
            let data = MotoS3.random(100_000, seed: 3)
            try await backend.put("data/00/pack", data)
            for (offset, length) in [(0, 1), (0, 100_000), (4096, 8192), (99_990, 10), (50_000, 0)] {
                #expect(try await backend.get("data/00/pack", offset: offset, length: length)
                    == data.subdata(in: offset..<(offset + length)), "\(kind): \(offset)+\(length)")
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func missingObjectsAreNotFound(_ kind: Kind) async throws {
        try await Self.withBackend(kind) { backend in
            await #expect { try await backend.get("data/none") } throws: { Self.isNotFound($0, backend, "data/none") }
            await #expect {
                try await backend.get("data/none", offset: 0, length: 10)
            } throws: { Self.isNotFound($0, backend, "data/none") }
            #expect(try await backend.size("data/none") == nil)
            try await backend.delete("data/none")
        }
    }

    @Test(arguments: Kind.allCases)
    func listingNamesObjectsUnderAPrefixWithSizes(_ kind: Kind) async throws {
        try await Self.withBackend(kind) { backend in
            #expect(try await backend.list(prefix: "").isEmpty, "\(kind): a new backend is empty")
            let names = ["data/aa/1", "data/aa/2", "data/bb/3", "index/4", "snapshots/5"]
            for (i, name) in names.enumerated() { try await backend.put(name, Data(repeating: UInt8(i), count: 10 + i)) }
            let all = try await backend.list(prefix: "")
            #expect(Set(all.map { BackendObject(name: $0.name, size: $0.size) }) == Set(names.enumerated().map { BackendObject(name: $0.element, size: 10 + $0.offset) }))
            #expect(Set(try await backend.list(prefix: "data/").map(\.name)) == ["data/aa/1", "data/aa/2", "data/bb/3"])
            #expect(Set(try await backend.list(prefix: "data/aa/").map(\.name)) == ["data/aa/1", "data/aa/2"])
            #expect(try await backend.list(prefix: "nothing/").isEmpty)

            try await backend.delete("data/aa/1")
            #expect(try await backend.size("data/aa/1") == nil)
            #expect(Set(try await backend.list(prefix: "data/").map(\.name)) == ["data/aa/2", "data/bb/3"])
        }
    }
}

@Suite struct S3BackendTests {
    @Test func locationsParseIntoBucketAndPrefix() throws {
        #expect(try S3Backend.parse("s3://my-bucket") == ("my-bucket", ""))
        #expect(try S3Backend.parse("s3://my-bucket/") == ("my-bucket", "/"))
        #expect(try S3Backend.parse("s3://my.bucket-1/hosts/a") == ("my.bucket-1", "/hosts/a"))
        for bad in ["/var/backups", "s3://", "s3://UPPER/x", "s3://ab", "s3://bad_name/x", "http://x/y"] {
            #expect(throws: OperatorError.self, "\(bad)") { try S3Backend.parse(bad) }
        }
    }

    @Test func locationNamesBucketAndNormalisedPrefix() throws {
        let client = try MotoS3.client()
        #expect(S3Backend(client: client, bucket: "b-1", prefix: "/a//b/").location == "s3://b-1/a/b/")
        #expect(S3Backend(client: client, bucket: "b-1").location == "s3://b-1/")
        let fromLocation = try S3Backend(location: "s3://b-2/x/y", endpoint: client.endpoint, region: "us-east-1",
                                         credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"))
        #expect(fromLocation.bucket == "b-2" && fromLocation.prefix == "x/y/")
    }

    @Test func aMissingBucketIsAClearError() async throws {
        let backend = S3Backend(client: try MotoS3.client(), bucket: MotoS3.uniqueBucket("gone"), prefix: "p")
        await #expect {
            try await backend.get("config")
        } throws: { isOperatorError($0, status: .usage, mentioning: "NoSuchBucket", backend.bucket) }
        await #expect {
            try await backend.list(prefix: "")
        } throws: { isOperatorError($0, status: .usage, mentioning: "NoSuchBucket") }
        await #expect {
            try await backend.size("config")
        } throws: { isOperatorError($0, status: .usage, mentioning: "NoSuchBucket", backend.bucket) }
    }
}

@Suite struct S3BackendSettingsTests {
    let environment = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_DEFAULT_REGION": "eu-west-1"]

    @Test func defaultsComeFromTheEnvironmentAndAWS() throws {
        let backend = try S3Backend(location: "s3://bkt/p", settings: S3BackendSettings(), environment: environment)
        #expect(backend.client.region == "eu-west-1")
        #expect(backend.client.endpoint.absoluteString == "https://s3.eu-west-1.amazonaws.com")
        #expect(backend.client.pathStyle == false, "AWS's own endpoint: virtual-host style")
        #expect(backend.bucket == "bkt" && backend.prefix == "p/")
    }

    @Test func settingsWinOverTheEnvironment() throws {
        let settings = S3BackendSettings(endpoint: "http://127.0.0.1:9000", region: "auto", accessKeyID: "CFGKEY", secretAccessKey: "cfg-secret")
        let backend = try S3Backend(location: "s3://bkt", settings: settings, environment: environment)
        #expect(backend.client.region == "auto")
        #expect(backend.client.endpoint.absoluteString == "http://127.0.0.1:9000")
        #expect(backend.client.pathStyle, "a given endpoint: path style unless told otherwise")
        var virtual = settings
        virtual.pathStyle = false
        #expect(try S3Backend(location: "s3://bkt", settings: virtual, environment: environment).client.pathStyle == false)
    }

    @Test func halfGivenCredentialsOrABadEndpointAreBadInput() {
        #expect(throws: OperatorError.self) {
            try S3Backend(location: "s3://bkt", settings: S3BackendSettings(accessKeyID: "only-the-id"), environment: environment)
        }
        #expect(throws: OperatorError.self) {
            try S3Backend(location: "s3://bkt", settings: S3BackendSettings(endpoint: "not a url"), environment: environment)
        }
        #expect(throws: OperatorError.self) {
            try S3Backend(location: "s3://bkt", settings: S3BackendSettings(), environment: [:])
        }
    }
}
