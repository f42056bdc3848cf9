import Foundation
import POSIX
import Repository
import S3
import Support
import Vaulthalla

/// The `s3` root: `<vault name>/<object key>` for every object of every S3 vault (the `.vaulthalla/` manifest
/// included), user metadata as `user.<name>` xattrs; and `valkyrie/s3-objects.jsonl`, one line per object with
/// its ETag, which the next backup compares to skip objects that did not change (the metadata is in the tree only:
/// a second copy in the list cost more than the rest of each line, every set).
struct S3Source {
    let access: CaptureSettings.S3Access
    let vaults: [VaulthallaDatabase.Vault]
    let writer: SetWriter
    let progress: CaptureProgress
    /// The previous set's `s3` tree and object list, if any.
    let previousTree: BlobID?
    let previousObjects: [S3ObjectLine]
    /// The previous object list's node: the list is stored as a patch on it where that pays.
    var previousList: Node? = nil
    /// GETs in flight at once, and the listed bytes they may hold in memory together (one larger object goes alone).
    static let parallelFetches = 4
    static let fetchBudget: Int64 = 32 << 20

    func capture() async throws -> (objects: CapturedItem, list: CapturedItem) {
        let started = Date()
        let client = S3Client(endpoint: access.endpoint, region: access.region, credentials: access.credentials,
                              pathStyle: access.pathStyle, caFile: access.caFile)
        let previousNodes = try await nodes(of: previousTree)
        let previousByKey = Dictionary(previousObjects.map { ("\($0.vault)/\($0.key)", $0) }, uniquingKeysWith: { a, _ in a })
        var lines: [S3ObjectLine] = []
        var vaultNodes: [Node] = []
        var files = 0, reused = 0
        var downloaded: Int64 = 0
        for vault in vaults {
            guard let bucket = vault.bucket else { continue }
            let listed = try await client.listObjects(bucket: bucket)
            var taken: [Node?] = Array(repeating: nil, count: listed.count)
            var fetch: [Int] = []
            for (i, object) in listed.enumerated() {
                if let before = previousByKey["\(vault.name)/\(object.key)"], before.bucket == bucket,
                   before.etag == object.etag, before.size == Int64(object.size),
                   let old = previousNodes["\(ExportSource.fileName(vault.name))/\(object.key)"],
                   (old.content ?? []).allSatisfy({ writer.repository.contains($0) }) {
                    taken[i] = old
                    reused += 1
                } else {
                    fetch.append(i)
                }
            }
            // Objects are fetched and stored a few at a time: each GET waits mostly on the network.
            try await withThrowingTaskGroup(of: (Int, Node, Int64).self) { group in
                var inFlight: [Int: Int64] = [:]
                func collect() async throws {
                    guard let (i, node, bytes) = try await group.next() else { return }
                    taken[i] = node
                    inFlight[i] = nil
                    downloaded += bytes
                }
                for i in fetch {
                    let object = listed[i]
                    while !inFlight.isEmpty && (inFlight.count >= Self.parallelFetches
                                                || inFlight.values.reduce(0, +) + Int64(object.size) > Self.fetchBudget) {
                        try await collect()
                    }
                    inFlight[i] = Int64(object.size)
                    group.addTask { [client, writer, progress] in
                        let fetched = try await client.getObject(bucket: bucket, key: object.key)
                        var node = try await writer.storeFile(fetched.data, name: (object.key as NSString).lastPathComponent,
                                                              mode: 0o600, mtime: object.lastModified ?? started)
                        node.xattrs = fetched.info.metadata.sorted { $0.key < $1.key }.map { ExtendedAttribute(name: "user.\($0.key)", value: Data($0.value.utf8)) }
                        if node.xattrs?.isEmpty == true { node.xattrs = nil }
                        progress.add(files: 1, bytes: Int64(fetched.data.count))
                        return (i, node, Int64(fetched.data.count))
                    }
                }
                while !inFlight.isEmpty { try await collect() }
            }
            var folder = Folder()
            for (object, node) in zip(listed, taken) {
                let node = node! // every object was taken over or fetched above
                files += 1
                try folder.insert(node, at: object.key.split(separator: "/", omittingEmptySubsequences: false).map(String.init),
                                  bucket: bucket)
                lines.append(S3ObjectLine(vault: vault.name, bucket: bucket, key: object.key, size: Int64(object.size),
                                          etag: object.etag, lastModified: object.lastModified.map(UTCTime.string)))
            }
            var top = try await folder.store(writer, time: started)
            top.name = ExportSource.fileName(vault.name)
            vaultNodes.append(top)
        }
        let tree = try await writer.storeTree(Tree(nodes: vaultNodes))
        let jsonl = try lines.map { String(decoding: try JSONFormat.encoder().encode($0), as: UTF8.self) + "\n" }.joined()
        let listNode = try await writer.storeFile(Data(jsonl.utf8), patchingOn: previousList, name: "s3-objects.jsonl", mode: 0o600,
                                                  mtime: started)
        return (CapturedItem(root: SetLayout.s3, value: .tree(tree), files: files, bytes: downloaded, started: started, reused: reused),
                CapturedItem(root: SetLayout.s3Objects, value: .file(listNode), files: 1, bytes: listNode.size, started: started))
    }

    /// Every node under the previous `s3` tree by its path.
    private func nodes(of tree: BlobID?) async throws -> [String: Node] {
        guard let tree, writer.repository.contains(tree) else { return [:] }
        var out: [String: Node] = [:]
        try await writer.repository.walk(tree) { path, node in if node.type == .file { out[path] = node } }
        return out
    }

    /// Object keys as a folder tree, built in memory and stored bottom-up.
    private struct Folder {
        var files: [String: Node] = [:]
        var folders: [String: Folder] = [:]

        mutating func insert(_ node: Node, at parts: [String], bucket: String) throws {
            guard let first = parts.first, !first.isEmpty, first != ".", first != ".." else {
                throw OperatorError.failed("s3://\(bucket) holds the key \(parts.joined(separator: "/")), which cannot be a path",
                                           remedy: "rename that object; Vaulthalla never writes such keys")
            }
            if parts.count == 1 {
                var node = node
                node.name = first
                files[first] = node
            } else {
                try folders[first, default: Folder()].insert(node, at: Array(parts.dropFirst()), bucket: bucket)
            }
        }

        /// A folder's time is the newest of what it holds (`time` only for an empty bucket): a folder whose
        /// objects did not change is the same node, so its tree and its parents' dedupe against the last set.
        func store(_ writer: SetWriter, time: Date) async throws -> Node {
            var nodes = Array(files.values)
            for (name, folder) in folders {
                var sub = try await folder.store(writer, time: time)
                sub.name = name
                nodes.append(sub)
            }
            let id = try await writer.storeTree(Tree(nodes: nodes))
            let newest = nodes.map(\.mtime).max { ($0.s, $0.ns) < ($1.s, $1.ns) }
                ?? FileTime(s: Int64(time.timeIntervalSince1970), ns: 0)
            return Node(name: "", type: .dir, mode: 0o700, mtime: newest, subtree: id)
        }
    }
}

/// One line of `valkyrie/s3-objects.jsonl`.
public struct S3ObjectLine: Codable, Sendable, Equatable {
    public var vault: String
    public var bucket: String
    public var key: String
    public var size: Int64
    public var etag: String
    public var lastModified: String?
}
