import Capture
import Catalog
import Foundation
import POSIX
import Repository
import Support

/// One set opened for reading: its catalog record and index, and the repository holding its bytes.
public struct SetSource: Sendable {
    public let catalog: Catalog
    public let repository: Repository
    public let set: SetRecord

    public init(catalog: Catalog, repository: Repository, record: SetRecord) {
        self.catalog = catalog
        self.repository = repository
        self.set = record
    }

    /// The listed set named `reference` (name or UUID), or `badInput` with the nearest set names.
    public static func listedSet(_ reference: String, in catalog: Catalog) throws -> SetRecord {
        if let set = try catalog.set(reference), set.isListed { return set }
        let names = try catalog.sets().map(\.name)
        throw OperatorError.badInput("no set \(reference) in catalog \(catalog.path)\(Suggestions.phrase(reference, among: names))",
                                     remedy: "see `valkyrie sets` for the sets there are")
    }

    public var entries: SetEntries { SetEntries(catalog: catalog, set: set) }
    public func entry(_ path: String) throws -> IndexedFile { try entries.entry(path) }
    public func vaultEntry(vault: String, _ path: String) throws -> IndexedVaultFile { try entries.vaultEntry(vault: vault, path) }

    /// The repository node behind an index entry, or nil for a folder that only exists above item roots.
    ///
    /// References are the backup's (`NodeReference`, docs/set-layout.md), plus `tree:<tree>` for an item's root folder.
    public func node(_ entry: FileEntry) async throws -> Node? {
        let reference = entry.node
        if reference.isEmpty { return nil }
        let name = (entry.path as NSString).lastPathComponent
        if let file = NodeReference(reference) {
            guard let node = try await repository.node(file, name: name, mode: entry.mode, uid: entry.uid, gid: entry.gid,
                                                       mtimeNanoseconds: entry.mtimeNanoseconds, size: entry.size) else {
                throw damaged(entry.path)
            }
            return node
        }
        guard reference.hasPrefix("tree:"), let id = BlobID(hex: String(reference.dropFirst("tree:".count))) else { throw damaged(entry.path) }
        let time = FileTime(s: entry.mtimeNanoseconds / 1_000_000_000, ns: entry.mtimeNanoseconds % 1_000_000_000)
        return Node(name: name, type: .dir, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: time, subtree: id)
    }

    /// The stored body (local alias file or S3 object) behind a vault index entry.
    public func body(_ entry: VaultEntry) async throws -> Node {
        let place = "vault \(entry.vault) \(entry.path) in set \(set.name)"
        let rest = entry.node.dropFirst("tree:".count)
        guard entry.node.hasPrefix("tree:"), let slash = rest.firstIndex(of: "/"), let tree = BlobID(hex: String(rest[..<slash])) else {
            throw OperatorError.failed("\(place): the set holds no body for it (backing path \(entry.backingPath ?? "none"))",
                                       remedy: "restore it from another set (`valkyrie history \(entry.path) --vault \(entry.vault)`)")
        }
        guard let node = try await repository.tree(tree)[String(rest[rest.index(after: slash)...])], node.type == .file else {
            throw damaged("\(entry.vault):\(entry.path)")
        }
        return node
    }

    /// The whole content of the file at raw `path` (small files: exports, the version record).
    public func contents(of path: String) async throws -> Data {
        let entry = try entry(path)
        guard entry.entry.kind == .file, let node = try await node(entry.entry) else {
            throw OperatorError.failed("\(path) in set \(set.name) is not a file", remedy: "check the set with `valkyrie ls`")
        }
        return try await repository.read(node, offset: 0, length: Int(node.size))
    }

    /// The set's version record (`valkyrie/version.json`).
    public func versionRecord() async throws -> VersionRecord {
        let data = try await contents(of: "/" + SetLayout.version)
        do { return try JSONFormat.decoder().decode(VersionRecord.self, from: data) } catch {
            throw OperatorError.failed("\(SetLayout.version) of set \(set.name) cannot be read (\(error))",
                                       remedy: "check the repository with `valkyrie verify`")
        }
    }

    private func damaged(_ path: String) -> OperatorError {
        .failed("set \(set.name): the repository does not hold \(path) where the catalog points",
                remedy: "run `valkyrie verify`; `valkyrie catalog rebuild` re-derives the index from the repository")
    }

    /// `/a/b` from `a/b/`, `/a//b`; `/` stays.
    public static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }
}

/// A set's entries in the catalog's index, found without the repository (`ls`, and the checks before a restore).
public struct SetEntries: Sendable {
    public let catalog: Catalog
    public let set: SetRecord

    public init(catalog: Catalog, set: SetRecord) {
        self.catalog = catalog
        self.set = set
    }

    /// The entry at raw `path` (absolute, as under `sets/<set>/`), or `badInput` with the nearest paths.
    public func entry(_ path: String) throws -> IndexedFile {
        let path = SetSource.normalized(path)
        if let entry = try catalog.file(path, in: set) { return entry }
        let parent = (path as NSString).deletingLastPathComponent
        let siblings = try catalog.listDirectory(parent, in: set).map(\.entry.path)
        throw OperatorError.badInput("set \(set.name) holds no \(path)\(Suggestions.phrase(path, among: siblings))",
                                     remedy: "list the set with `valkyrie ls \(set.name):\(parent)`")
    }

    /// The vault entry at logical `path`, or `badInput` with the nearest logical paths (or vault names).
    public func vaultEntry(vault: String, _ path: String) throws -> IndexedVaultFile {
        let path = SetSource.normalized(path)
        if let entry = try catalog.vaultFile(vault: vault, path, in: set) { return entry }
        let vaults = Set(try catalog.listVaultDirectory(vault: vault, "/", in: set).map(\.entry.vault))
        if vaults.isEmpty {
            let all = Set(try catalog.vaultEntries(of: set).map(\.entry.vault)).sorted()
            throw OperatorError.badInput("set \(set.name) has no vault \(vault)\(Suggestions.phrase(vault, among: all))",
                                         remedy: "the set's vaults: \(all.joined(separator: ", "))")
        }
        let parent = (path as NSString).deletingLastPathComponent
        let siblings = try catalog.listVaultDirectory(vault: vault, parent, in: set).map(\.entry.path)
        throw OperatorError.badInput("vault \(vault) in set \(set.name) holds no \(path)\(Suggestions.phrase(path, among: siblings))",
                                     remedy: "search with `valkyrie find '*\((path as NSString).lastPathComponent)*' --vault \(vault)`")
    }

}
