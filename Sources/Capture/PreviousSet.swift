import Catalog
import Foundation
import Repository
import Support

/// The host's most recent earlier set that captured items (complete, partial or failed part-way): its trees are
/// the parents that let unchanged files and objects be taken over without reading them.
struct PreviousSet {
    let items: [String: ItemRecord]
    let repository: Repository
    /// The set's own warnings (body mismatches among them).
    let warnings: [String]

    static func find(catalog: Catalog, host: String, before current: SetRecord, repository: Repository) throws -> PreviousSet? {
        let earlier = try catalog.sets(all: true, host: host).filter { $0.ordinal < current.ordinal && $0.forgottenAt == nil }
        for set in earlier.sorted(by: { $0.ordinal > $1.ordinal }) {
            let items = try catalog.details(of: set).items
            if !items.isEmpty {
                return PreviousSet(items: Dictionary(items.map { ($0.item, $0) }, uniquingKeysWith: { a, _ in a }),
                                   repository: repository, warnings: set.warnings)
            }
        }
        return nil
    }

    /// The tree of `item`, if that set has one the repository still holds.
    func tree(_ item: String) -> BlobID? {
        guard let root = items[item]?.root, let id = BlobID(hex: root), repository.contains(id) else { return nil }
        return id
    }

    /// The previous dump, if its data is all still in the repository.
    func dump() async throws -> Node? {
        guard let tree = tree(SetLayout.postgres), let node = try await repository.tree(tree)[PostgresSource.dumpName],
              node.dataBlobs.allSatisfy(repository.contains) else { return nil }
        return node
    }

    /// The object list of the previous `s3` capture (empty when it cannot be read: every object is fetched again).
    func s3Objects() async throws -> [S3ObjectLine] {
        var out: [S3ObjectLine] = []
        try await lines(of: SetLayout.s3Objects) { out.append($0) }
        return out
    }

    /// The content hashes the previous set's coherence check matched, by backing path (empty when its vault index
    /// cannot be read): all the next check takes from it, held for the whole backup, so not the lines themselves.
    func verifiedHashes() async throws -> [String: String] {
        guard let data = try await bytes(of: SetLayout.vaultIndex) else { return [:] }
        var out: [String: String] = [:]
        VaultIndexJSON.forEachLine(data) { line in
            if line.hashVerified == true, let hash = line.contentHash, out[line.backingPath] == nil { out[line.backingPath] = hash }
        }
        return out
    }

    /// Content blob ids of the previous `var/lib/vaulthalla` files, by relative path.
    func bodyContent() async throws -> [String: [BlobID]] {
        guard let tree = tree(SetLayout.varLib) else { return [:] }
        var out: [String: [BlobID]] = [:]
        try await repository.walk(tree) { path, node in if let content = node.content { out[path] = content } }
        return out
    }

    /// The node of single-file item `item` (a patch with its base), if its data is all still in the repository.
    func file(_ item: String) async throws -> Node? {
        guard let record = items[item], let reference = NodeReference(record.root),
              let node = try await repository.node(reference, name: (item as NSString).lastPathComponent, mode: 0o600, uid: 0, gid: 0,
                                                   mtimeNanoseconds: 0, size: record.size),
              node.dataBlobs.allSatisfy(repository.contains) else { return nil }
        return node
    }

    /// Calls `visit` with each JSON line of a single-file item, decoded in place; lines that do not decode are left out.
    private func lines<T: Decodable>(of item: String, _ visit: (T) -> Void) async throws {
        guard let data = try await bytes(of: item) else { return }
        let decoder = JSONFormat.decoder()
        JSONLines.forEach(in: data) { if let line = try? decoder.decode(T.self, from: $0) { visit(line) } }
    }

    /// The whole content of a single-file item, if it is still in the repository.
    private func bytes(of item: String) async throws -> Data? {
        guard let node = try await file(item) else { return nil }
        return try await repository.read(node, offset: 0, length: Int(node.size))
    }
}
