import Foundation
import Repository
import S3
import Support
import Testing

/// The issue's end-to-end check: a repository in a bucket, reached through the fault proxy (5% of requests
/// failed with 500/503, 2% cut mid-answer), takes several sets, and then verifies clean, data included.
@Suite struct RepositoryOnS3Tests {
    static let passphrase = Data("s3 end to end passphrase".utf8)

    @Test func setsWrittenThroughFaultsVerifyClean() async throws {
        let source = NSTemporaryDirectory() + "valkyrie-s3-source-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: source) }
        func write(_ name: String, _ data: Data) throws {
            let path = "\(source)/\(name)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path))
        }

        try await MotoS3.withBucket("repo") { _, bucket in
            try await FaultProxy.with(upstream: try MotoS3.endpoint(), seed: 11) { proxy in
                let client = try MotoS3.client(endpoint: proxy.endpoint,
                                               multipart: MultipartPolicy(threshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024))
                let backend = S3Backend(client: client, bucket: bucket, prefix: "valkyrie")
                let repository = try await Repository.initialize(
                    backend: backend, slot: .passphrase(Self.passphrase, cost: .interactive), label: "s3 test")

                var expected: [String: Data] = [:]
                for round in 0..<4 {
                    // Each round changes some files and adds others; round 0 includes a file larger than a pack.
                    let files: [String: Data] = [
                        "etc/config-\(round).yaml": Data("round: \(round)\n".utf8),
                        "var/lib/blob-\(round % 2).bin": MotoS3.random(700_000 + round * 1000, seed: UInt64(round)),
                        "var/lib/large.bin": MotoS3.random(round == 0 ? 18 * 1024 * 1024 : 3 * 1024 * 1024, seed: 77),
                    ]
                    for (name, data) in files {
                        try write(name, data)
                        expected[name] = data
                    }
                    let writer = try await repository.beginSet()
                    let result = try await writer.storeDirectory(at: source)
                    _ = try await writer.commit(metadata: .object(["round": .string(String(round))]),
                                                roots: ["files": .tree(result.tree)])
                }

                let reopened = try await Repository.open(backend: backend, unlock: [.passphrase(Self.passphrase)])
                #expect(try await reopened.snapshots().count == 4)
                let structure = try await Verifier(repository: reopened).verify()
                #expect(structure.isClean, "structure: \(structure.problems)")
                let data = try await Verifier(repository: reopened).verify(readPercent: 100)
                #expect(data.isClean, "data: \(data.problems)")
                #expect(data.snapshots == 4 && data.packsRead > 0)

                // The newest set restores the newest bytes.
                let restoreTo = source + "-restored"
                defer { try? FileManager.default.removeItem(atPath: restoreTo) }
                let newest = try #require(try await reopened.snapshots().max { $0.snapshot.time < $1.snapshot.time })
                guard case let .tree(tree) = try #require(newest.snapshot.roots["files"]) else {
                    Issue.record("the set's root is not a tree")
                    return
                }
                _ = try await Restorer(repository: reopened, restoreOwners: false).restoreTree(tree, into: restoreTo)
                for (name, data) in expected {
                    #expect(FileManager.default.contents(atPath: "\(restoreTo)/\(name)") == data, "restored \(name)")
                }

                let counts = try await proxy.counts()
                #expect(counts.failed > 0 && counts.cut > 0, "faults were injected: \(counts)")
            }
        }
    }
}
