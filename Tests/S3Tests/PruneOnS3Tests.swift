import Foundation
import Repository
import S3
import Support
import Testing

/// Prune on a bucket: a forgotten set's data goes (the storage's LastModified ages the packs and the plan),
/// and the set that remains restores bit-identical.
@Suite struct PruneOnS3Tests {
    static let passphrase = Data("s3 prune passphrase".utf8)

    @Test func forgottenSetIsReclaimedAndTheRestRestores() async throws {
        try await MotoS3.withBucket("prune") { client, bucket in
            let backend = S3Backend(client: client, bucket: bucket, prefix: "valkyrie")
            let repository = try await Repository.initialize(
                backend: backend, slot: .passphrase(Self.passphrase, cost: .interactive), label: "s3 prune")
            let kept = MotoS3.random(600_000, seed: 1), dropped = MotoS3.random(1_200_000, seed: 2)
            var sets: [StoredSnapshot] = []
            for (name, data) in [("dropped.bin", dropped), ("kept.bin", kept)] {
                let writer = try await repository.beginSet()
                let node = try await writer.storeFile(data, name: name)
                sets.append(try await writer.commit(metadata: .null, roots: ["file": .file(node)]))
            }
            #expect(try await backend.list(prefix: "data/").allSatisfy { $0.modified != nil }, "S3 lists LastModified")
            try await repository.removeSnapshot(sets[0].id)

            // Within the grace period nothing is touched; with none, the forgotten set's data goes.
            let young = try await Pruner(repository: repository).prune()
            #expect(young.condemnedPacks == 0 && young.youngPacks == young.packs)
            let report = try await Pruner(repository: repository, options: PruneOptions(grace: 0)).prune()
            #expect(report.reclaimedBytes >= 1_200_000 && report.deletedPacks >= 1, "\(report)")
            #expect(try await backend.list(prefix: "prune/").isEmpty)

            let reopened = try await Repository.open(backend: backend, unlock: [.passphrase(Self.passphrase)])
            let verify = try await Verifier(repository: reopened).verify(readPercent: 100)
            #expect(verify.isClean && verify.snapshots == 1 && verify.unindexedPacks == 0, "\(verify.problems)")
            guard case let .file(node) = try #require(try await reopened.snapshot(sets[1].id).roots["file"]) else {
                Issue.record("not a file root")
                return
            }
            #expect(try await reopened.read(node, offset: 0, length: Int(node.size)) == kept)
        }
    }
}
