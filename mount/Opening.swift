import Catalog
import FUSE
import Foundation
import Repository
import Vaulthalla

/// Opening and reading: repository contents with read-ahead, vault plaintext verified before it is served,
/// and the files the mount generates.
extension MountFilesystem {
    enum OpenState: Sendable {
        case bytes(Data)
        case content(Node, ContentReader.Progress)
        /// Decrypted vault body: the set and logical path, for the plaintext-read summary.
        case plaintext(Data, set: UUID, file: String)
    }

    public func open(_ inode: UInt64) throws -> OpenFile {
        guard let place = inodes.place(of: inode) else { throw FUSEError(ENOENT) }
        let state: OpenState
        var keepCache = true
        switch place {
        case .readme:
            state = .bytes(Self.readme)
        case let .setJSON(id):
            state = .bytes(try setJSON(info(id)))
            keepCache = false
        case let .drill(set, drill, json):
            state = .bytes(try drillReport(set: set, drill: drill, json: json))
            keepCache = false
        case let .path(id, path):
            let set = try info(id)
            guard let entry = try fileEntry(path, in: set), entry.kind == .file else { throw FUSEError(EISDIR) }
            guard let node = try contentNode(entry, in: set) else {
                log("\(set.record.name)\(path): the repository no longer holds this file's node; run `valkyrie verify`")
                throw FUSEError(EIO)
            }
            if set.isKeyMaterial(path) {
                let vault = path.hasPrefix("/keys/") && path.hasSuffix(".json.asc")
                    ? String(path.dropFirst("/keys/".count).dropLast(".json.asc".count)) : nil
                let version = vault.map { exportedKeyVersion(of: $0, in: set) } ?? 0
                do { try audit.keyMaterialOpened(set: set.details, path: path, vault: vault, keyVersion: version) } catch {
                    log("\(set.record.name)\(path): cannot record the key-extracted event (\(error)); key material is served only once recorded")
                    throw FUSEError(EIO)
                }
            }
            state = .content(node, ContentReader.Progress())
        case let .vault(id, vault, path) where path != "/":
            state = try openVaultFile(try info(id), vault: vault, path: path, inode: inode)
        default:
            throw FUSEError(EISDIR)
        }
        if case let .plaintext(_, set, file) = state { audit.plaintextOpened(set: set, file: file) }
        let handle = handles.withLock { table in
            let handle = table.next
            table.next += 1
            table.open[handle] = state
            return handle
        }
        return OpenFile(handle: handle, keepCache: keepCache)
    }

    public func read(_ inode: UInt64, handle: UInt64, offset: Int, size: Int) throws -> Data {
        guard let state = handles.withLock({ $0.open[handle] }) else { throw FUSEError(EBADF) }
        switch state {
        case let .bytes(data):
            return Self.slice(data, offset: offset, size: size)
        case let .content(node, progress):
            return try reader.read(node, progress: progress, offset: offset, size: size)
        case let .plaintext(data, _, _):
            let slice = Self.slice(data, offset: offset, size: size)
            audit.plaintextRead(bytes: slice.count)
            return slice
        }
    }

    public func release(_ inode: UInt64, handle: UInt64) {
        _ = handles.withLock { $0.open.removeValue(forKey: handle) }
    }

    /// The node whose chunks hold the entry's content: its own, or for a later name of a hard link, the first name's.
    private func contentNode(_ entry: FileEntry, in set: SetInfo) throws -> Node? {
        guard let node = try resolve(entry) else { return nil }
        guard node.content == nil, let first = node.hardLink,
              let item = set.details.items.first(where: { entry.path.hasPrefix("/" + $0.item + "/") }),
              let firstEntry = try fileEntry("/" + item.item + "/" + first, in: set) else { return node }
        return try resolve(firstEntry)
    }

    /// Decrypts the whole body once (GCM verifies it before any byte is served), through the plaintext cache.
    private func openVaultFile(_ set: SetInfo, vault: String, path: String, inode: UInt64) throws -> OpenState {
        let entry: VaultEntry
        if case let .vault(row)? = known.withLock({ $0[inode] }) { entry = row } else {
            guard let row = try catalog.listVaultDirectory(vault: vault, Self.parent(path), in: set.record)
                .first(where: { $0.entry.path == path })?.entry else { throw FUSEError(ENOENT) }
            entry = row
        }
        guard entry.kind == .file else { throw FUSEError(EISDIR) }
        let name = "\(set.record.name)/vaults/\(vault)\(path)"
        if keys.isLocked {
            log("\(name): vault files are encrypted and this mount has no keys; mount again with --unlock (the operator's GPG key) or --keys FILE (a plaintext `vh vault keys export`)")
            throw FUSEError(EACCES)
        }
        let file = "/vaults/\(vault)\(path)"
        if let cached = plaintext[entry.node] { return .plaintext(cached, set: set.id, file: file) }
        let data = try decryptions.run(entry.node) { try decrypt(entry, set: set, vault: vault, name: name) }
        return .plaintext(data, set: set.id, file: file)
    }

    /// Reads the body and opens it with the vault's keys, into the plaintext cache.
    private func decrypt(_ entry: VaultEntry, set: SetInfo, vault: String, name: String) throws -> Data {
        let keyring: VaultKeyring?
        do {
            keyring = try keys.keyring(vault: vault, set: set.id) { try self.exportBytes(set) }
        } catch {
            log("\(name): cannot open the set's key export (\(error)); check that the operator's secret key is in the GPG keyring, or use --keys FILE")
            throw FUSEError(EACCES)
        }
        guard let keyring else {
            log("\(name): the key export holds no key for vault \(vault); use --keys FILE with an export that does")
            throw FUSEError(EACCES)
        }
        // The body is a file of `var/lib/vaulthalla` or `s3`; its row there carries what reading it needs.
        let body = FileEntry(path: entry.backingPath ?? entry.path, kind: .file, size: entry.size, mode: 0o400, uid: 0, gid: 0,
                             mtimeNanoseconds: 0, version: entry.version, node: entry.node)
        guard let node = try resolve(body) else {
            log("\(name): the repository no longer holds its body; run `valkyrie verify`")
            throw FUSEError(EIO)
        }
        let repository = self.repository
        let sealed = try blocking { try await repository.read(node, offset: 0, length: Int(node.size)) }
        var ring = keyring
        var opened = try? ring.open(body: sealed, encryptionIV: entry.iv, recordedVersion: entry.keyVersion)
        if opened == nil { opened = try openWithEarlierExports(&ring, set: set, vault: vault, body: sealed, entry: entry) }
        guard let opened else {
            // A body matching its recorded hash is intact: what is missing is its key version (a key rotated out
            // of the export), which is a matter of access, not damage.
            if let hash = entry.contentHash, ContentHash.hex(of: sealed) == hash {
                log(missingVersion(name, set: set, vault: vault, entry: entry, holds: ring.keys.keys.sorted()))
                throw FUSEError(EACCES)
            }
            log("\(name): no key version of vault \(vault) verifies this body and it does not match its recorded hash: it is damaged; run `valkyrie verify --read-data`")
            throw FUSEError(EIO)
        }
        plaintext.insert(opened.plaintext, for: entry.node)
        return opened.plaintext
    }

    /// Each export holds only the key versions current when it was taken: a body still on an older version is
    /// opened with the exports of the host's earlier sets (newest first), as restore does. Only with `--unlock`:
    /// a `--keys` file is the one export there is.
    private func openWithEarlierExports(_ ring: inout VaultKeyring, set: SetInfo, vault: String, body: Data,
                                        entry: VaultEntry) throws -> VaultKeyring.Opened? {
        guard case .gpg = keys.source else { return nil }
        let earlier = try catalog.sets(host: set.record.host).filter { $0.ordinal < set.record.ordinal }.sorted { $0.ordinal > $1.ordinal }
        for other in earlier {
            guard let older = try? keys.keyring(vault: vault, set: other.id, encryptedExport: { try self.exportBytes(self.info(other.id)) })
            else { continue }
            let added = older.keys.filter { ring.keys[$0.key] == nil }
            guard !added.isEmpty else { continue }
            ring.keys.merge(added) { current, _ in current }
            if let opened = try? ring.open(body: body, encryptionIV: entry.iv, recordedVersion: entry.keyVersion) { return opened }
        }
        return nil
    }

    /// The log line for an intact body whose key version no export given to the mount holds: which file, which
    /// version, and what the operator can do.
    private func missingVersion(_ name: String, set: SetInfo, vault: String, entry: VaultEntry, holds: [Int]) -> String {
        let held = holds.map(String.init).joined(separator: ", ")
        let needed = entry.keyVersion.map { holds.contains($0) ? "a key version other than the recorded \($0)" : "key version \($0)" }
            ?? "a key version the vault index does not record"
        let source = if case .gpg = keys.source { "the set's key export and those of the host's earlier sets hold" } else { "the --keys file holds" }
        return "\(name): the body is intact but encrypted with \(needed) of vault \(vault); \(source) only "
            + "\(holds.count == 1 ? "version" : "versions") \(held). "
            + "Mount with --keys FILE naming an export that holds it (a `vh vault keys export` taken before the rotation), "
            + "or restore the set in full (`valkyrie restore \(set.record.name) --full --root DIR`): Vaulthalla keeps retired keys "
            + "in vault_keys_trashed and reads the file itself"
    }

    /// The set's armored export of every vault key.
    private func exportBytes(_ set: SetInfo) throws -> Data {
        guard let entry = try fileEntry("/exports/vault-keys.json.asc", in: set), let node = try resolve(entry) else {
            throw FUSEError(ENOENT)
        }
        let repository = self.repository
        return try blocking { try await repository.read(node, offset: 0, length: Int(node.size)) }
    }

    static func slice(_ data: Data, offset: Int, size: Int) -> Data {
        guard offset < data.count else { return Data() }
        return data.subdata(in: data.startIndex + offset..<data.startIndex + min(data.count, offset + size))
    }
}
