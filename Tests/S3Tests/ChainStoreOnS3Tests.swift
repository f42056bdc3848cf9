import Foundation
import Repository
import S3
import Support
import Testing

/// The chain head is the one object under `chains/` that is rewritten: on S3 a plain PUT replaces it.
@Suite struct ChainStoreOnS3Tests {
    @Test func theHeadMovesAndSegmentsListOnS3() async throws {
        try await MotoS3.withBucket("chains") { client, bucket in
            let backend = S3Backend(client: client, bucket: bucket, prefix: "valkyrie")
            let repository = try await Repository.initialize(
                backend: backend, slot: .passphrase(Data("chain passphrase".utf8), cost: .interactive), label: "s3 chains")
            let chain = "5f0c6a8e-2b1d-4c3a-9e7f-0123456789ab"
            try await repository.storeChainSegment(chain, Data("segment".utf8))
            var head = RepositoryChainHead(chain: chain, host: "vh1", seq: 1, hash: "11", written: Date(timeIntervalSince1970: 0))
            try await repository.writeChainHead(head)
            head.seq = 2
            try await repository.writeChainHead(head)
            #expect(try await repository.chainIDs() == [chain])
            #expect(try await repository.chainHead(chain) == head)
            #expect(try await repository.chainSegments(chain) == [Data("segment".utf8)])
        }
    }
}
