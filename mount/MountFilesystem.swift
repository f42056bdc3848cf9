import Catalog
import FUSE
import Foundation
import Repository
import Sodium
import Support
import Synchronization

/// The whole catalog as a read-only tree (DESIGN.md, "The mount"): listings from the catalog's projections,
/// contents from the repository. Safe to call from libfuse's threads at once.
public final class MountFilesystem: ReadOnlyFilesystem {
    /// Attribute and entry lifetimes: set contents never change; the top level moves as sets complete.
    static let stableSeconds = 86_400.0
    static let movingSeconds = 1.0

    let catalog: Catalog
    let repository: Repository
    let reader: ContentReader
    let keys: VaultKeyStore
    /// Decrypted vault bodies; every byte is overwritten when one leaves (eviction, or unmount).
    let plaintext: SizeBoundedCache<String>
    let decryptions = BodyDecryptions()
    let audit: MountAudit
    let inodes = InodeTable()
    let log: @Sendable (String) -> Void

    /// Set infos read so far (a listed set's items and vaults do not change).
    private let setInfos = Mutex<[UUID: SetInfo]>([:])
    /// Index rows of places handed to the kernel, so `getattr` needs no query.
    let known = Mutex<[UInt64: Known]>([:])
    let handles = Mutex<(next: UInt64, open: [UInt64: OpenState])>((1, [:]))

    enum Known: Sendable {
        case file(FileEntry)
        case vault(VaultEntry)
    }

    public init(catalog: Catalog, repository: Repository, keys: VaultKeySource, mountpoint: String,
                plaintextCacheBytes: Int = 256 << 20, readAhead: Int = 16 << 20,
                log: @escaping @Sendable (String) -> Void) throws {
        self.catalog = catalog
        self.repository = repository
        self.reader = ContentReader(repository: repository, readAhead: readAhead)
        self.keys = try VaultKeyStore(keys)
        self.plaintext = SizeBoundedCache(capacity: plaintextCacheBytes, evict: { Sodium.wipe(&$0) })
        self.audit = MountAudit(catalog: catalog, mountpoint: mountpoint)
        self.log = log
    }

    /// Called once the mount is gone: wipes keys and plaintext, records the plaintext-read summary.
    public func finish() throws {
        handles.withLock { $0.open.removeAll() }
        keys.wipe()
        plaintext.removeAll()
        try audit.finish()
    }

    // MARK: ReadOnlyFilesystem

    public func lookup(parent: UInt64, name: String) throws -> FileAttributes {
        guard let parentPlace = inodes.place(of: parent), let place = try child(of: parentPlace, named: name) else {
            throw FUSEError(ENOENT)
        }
        // Held from here: working out the attributes may need the place by number (a link's target).
        let inode = inodes.lookedUp(place)
        do { return try attributes(of: place, inode: inode) } catch {
            forget(inode, lookups: 1)
            throw error
        }
    }

    public func forget(_ inode: UInt64, lookups: UInt64) {
        if inodes.forget(inode, lookups: lookups) { _ = known.withLock { $0.removeValue(forKey: inode) } }
    }

    public func attributes(of inode: UInt64) throws -> FileAttributes {
        guard let place = inodes.place(of: inode) else { throw FUSEError(ENOENT) }
        return try attributes(of: place, inode: inode)
    }

    public func entries(of inode: UInt64) throws -> [DirectoryEntry] {
        guard let place = inodes.place(of: inode) else { throw FUSEError(ENOENT) }
        return try children(of: place).map { name, child, kind in
            DirectoryEntry(name: name, inode: inodes.number(for: child), kind: kind)
        }
    }

    public func readlink(_ inode: UInt64) throws -> String {
        switch inodes.place(of: inode) {
        case .latest?:
            guard let newest = try catalog.sets().last(where: { $0.status == .complete }) else { throw FUSEError(ENOENT) }
            return "sets/\(newest.name)"
        case let .hostLink(id)?:
            let set = try info(id).record
            return "../../\(Self.folder(of: set))/\(set.name)"
        case let .path(id, path)?:
            guard let entry = try fileRow(inode, path, in: id), entry.kind == .symlink,
                  let node = try resolve(entry), let target = node.target else {
                throw FUSEError(EINVAL)
            }
            return target
        default:
            throw FUSEError(EINVAL)
        }
    }

    public func extendedAttributeNames(_ inode: UInt64) throws -> [String] {
        try storedNode(inode)?.xattrs?.map(\.name) ?? []
    }

    public func extendedAttribute(_ inode: UInt64, name: String) throws -> Data {
        guard let value = try storedNode(inode)?.xattrs?.first(where: { $0.name == name }) else { throw FUSEError(ENODATA) }
        return value.value
    }

    /// The repository node behind a set path (for xattrs), nil for places that have none.
    private func storedNode(_ inode: UInt64) throws -> Node? {
        guard case let .path(id, path)? = inodes.place(of: inode) else { return nil }
        guard let entry = try fileRow(inode, path, in: id) else { return nil }
        return try resolve(entry)
    }

    // MARK: Sets

    func info(_ id: UUID) throws -> SetInfo {
        if let cached = setInfos.withLock({ $0[id] }) { return cached }
        guard let record = try catalog.set(id.uuidString), record.isListed else { throw FUSEError(ENOENT) }
        let details = try catalog.details(of: record)
        var candidates = Set(details.exports.flatMap { $0.vaults + ($0.vault.map { [$0] } ?? []) })
        for entry in try catalog.listDirectory("/keys", in: record) where entry.entry.path.hasSuffix(".json.asc") {
            candidates.insert(String(entry.entry.path.dropFirst("/keys/".count).dropLast(".json.asc".count)))
        }
        for entry in try catalog.listDirectory("/s3", in: record) where entry.entry.kind == .directory {
            candidates.insert(String(entry.entry.path.dropFirst("/s3/".count)))
        }
        let vaults = try candidates.filter { !(try catalog.listVaultDirectory(vault: $0, "/", in: record)).isEmpty }.sorted()
        let info = SetInfo(details: details, vaults: vaults)
        setInfos.withLock { $0[id] = info }
        return info
    }

    /// `sets` for complete sets, `incomplete` for partial ones.
    static func folder(of set: SetRecord) -> String { set.status == .complete ? "sets" : "incomplete" }

    /// The index row of a set path: remembered from the lookup or listing that named it, else queried.
    func fileRow(_ inode: UInt64, _ path: String, in id: UUID) throws -> FileEntry? {
        if case let .file(row)? = known.withLock({ $0[inode] }) { return row }
        return try fileEntry(path, in: info(id))
    }

    func fileEntry(_ path: String, in set: SetInfo) throws -> FileEntry? {
        try catalog.file(path, in: set.record)?.entry
    }

    /// The repository node behind an index row (nil for folders).
    func resolve(_ entry: FileEntry) throws -> Node? {
        guard let reference = NodeReference(entry.node) else { return nil }
        let repository = self.repository
        return try blocking {
            try await repository.node(reference, name: String(entry.path.split(separator: "/").last ?? ""), mode: entry.mode,
                                      uid: entry.uid, gid: entry.gid, mtimeNanoseconds: entry.mtimeNanoseconds, size: entry.size)
        }
    }
}
