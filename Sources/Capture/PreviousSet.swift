import Catalog
import Foundation
import Repository
import Support

/// The host's most recent earlier set that captured items (complete, partial or failed part-way): its trees are
/// the parents that let unchanged files and objects be taken over without reading them.
struct PreviousSet {
    let items: [String: ItemRecord]
    let repository: Repository

    static func find(catalog: Catalog, host: String, before current: SetRecord, repository: Repository) throws -> PreviousSet? {
        let earlier = try catalog.sets(all: true, host: host).filter { $0.ordinal < current.ordinal && $0.forgottenAt == nil }
        for set in earlier.sorted(by: { $0.ordinal > $1.ordinal }) {
            let items = try catalog.details(of: set).items
            if !items.isEmpty {
                return PreviousSet(items: Dictionary(items.map { ($0.item, $0) }, uniquingKeysWith: { a, _ in a }),
                                   repository: repository)
            }
        }
        return nil
    }

    /// The tree of `item`, if that set has one the repository still holds.
    func tree(_ item: String) -> BlobID? {
        guard let root = items[item]?.root, let id = BlobID(hex: root), repository.contains(id) else { return nil }
        return id
    }

    /// The object list of the previous `s3` capture (empty when it cannot be read: every object is fetched again).
    func s3Objects() async throws -> [S3ObjectLine] {
        guard let root = items[SetLayout.s3Objects]?.root, root.hasPrefix("blobs:") else { return [] }
        let ids = root.dropFirst("blobs:".count).split(separator: ",").compactMap { BlobID(hex: String($0)) }
        guard ids.allSatisfy(repository.contains) else { return [] }
        var data = Data()
        for id in ids { data.append(try await repository.blob(id)) }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONFormat.decoder().decode(S3ObjectLine.self, from: Data($0.utf8))
        }
    }
}
