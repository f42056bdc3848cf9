import Catalog
import FUSE
import Foundation

/// Names, children and attributes of every place.
extension MountFilesystem {
    typealias Child = (name: String, place: Place, kind: FileAttributes.Kind)

    func children(of place: Place) throws -> [Child] {
        switch place {
        case .root:
            var out: [Child] = [("README.txt", .readme, .regular), ("sets", .sets, .directory),
                                ("incomplete", .incomplete, .directory), ("hosts", .hosts, .directory),
                                ("drills", .drills, .directory)]
            if try catalog.sets().contains(where: { $0.status == .complete }) { out.append(("latest", .latest, .symlink)) }
            return out
        case .sets, .incomplete:
            let status: SetStatus = place == .sets ? .complete : .partial
            return try catalog.sets().filter { $0.status == status }.map { ($0.name, .set($0.id), .directory) }
        case .hosts:
            return Array(Set(try catalog.sets().map(\.host))).sorted().map { ($0, .host($0), .directory) }
        case let .host(host):
            return try catalog.sets(host: host).map { ($0.name, .hostLink($0.id), .symlink) }
        case .drills:
            return try catalog.sets().flatMap { set in
                try catalog.details(of: set).drills.flatMap { drill -> [Child] in
                    let base = "\(set.name)_\(drill.id.uuidString.prefix(8).lowercased())"
                    return [(base + ".md", .drill(set: set.id, drill: drill.id, json: false), .regular),
                            (base + ".json", .drill(set: set.id, drill: drill.id, json: true), .regular)]
                }
            }
        case let .set(id):
            return try setChildren(info(id), "/")
        case let .path(id, path):
            return try setChildren(info(id), path)
        case let .vaults(id):
            return try info(id).vaults.map { ($0, .vault(id, vault: $0, path: "/"), .directory) }
        case let .vault(id, vault, path):
            let set = try info(id)
            return try catalog.listVaultDirectory(vault: vault, path, in: set.record).compactMap { row -> Child? in
                let child = Place.vault(id, vault: vault, path: row.entry.path)
                guard let kind = Self.kind(row.entry.kind) else { return nil }
                return (Self.lastComponent(row.entry.path), child, kind)
            }
        default:
            throw FUSEError(ENOTDIR)
        }
    }

    func child(of place: Place, named name: String) throws -> Place? {
        switch place {
        case let .set(id):
            return try setChild(info(id), "/", name)
        case let .path(id, path):
            return try setChild(info(id), path, name)
        case let .vault(id, vault, path):
            let childPath = Self.join(path, name)
            guard let row = try catalog.listVaultDirectory(vault: vault, path, in: info(id).record)
                .first(where: { $0.entry.path == childPath }), Self.kind(row.entry.kind) != nil else { return nil }
            let child = Place.vault(id, vault: vault, path: childPath)
            remember(child, .vault(row.entry))
            return child
        default:
            return try children(of: place).first { $0.name == name }?.place
        }
    }

    private func setChildren(_ set: SetInfo, _ path: String) throws -> [Child] {
        var out: [String: Child] = [:]
        for row in try catalog.listDirectory(path, in: set.record) {
            guard let kind = Self.kind(row.entry.kind) else { continue }
            let name = Self.lastComponent(row.entry.path), child = Place.path(set.id, row.entry.path)
            out[name] = (name, child, kind)
        }
        if path == "/" {
            out["set.json"] = ("set.json", .setJSON(set.id), .regular)
            if !set.vaults.isEmpty { out["vaults"] = ("vaults", .vaults(set.id), .directory) }
        }
        return out.values.sorted { $0.name < $1.name }
    }

    private func setChild(_ set: SetInfo, _ path: String, _ name: String) throws -> Place? {
        if path == "/" && name == "set.json" { return .setJSON(set.id) }
        if path == "/" && name == "vaults" && !set.vaults.isEmpty { return .vaults(set.id) }
        let childPath = Self.join(path, name)
        guard let entry = try fileEntry(childPath, in: set), Self.kind(entry.kind) != nil else { return nil }
        let child = Place.path(set.id, childPath)
        remember(child, .file(entry))
        return child
    }

    /// Keeps the index row of a place being looked up, so `getattr` and `open` need no query; dropped when the
    /// kernel forgets the inode.
    func remember(_ place: Place, _ entry: Known) {
        let inode = inodes.number(for: place)
        known.withLock { $0[inode] = entry }
    }

    // MARK: Attributes

    func attributes(of place: Place, inode: UInt64) throws -> FileAttributes {
        func directory(_ mode: UInt16 = 0o755, cache: Double = Self.movingSeconds, at time: Date = Date(timeIntervalSince1970: 0)) -> FileAttributes {
            FileAttributes(inode: inode, kind: .directory, permissions: mode, linkCount: 2, modified: Self.timestamp(time),
                           cacheSeconds: cache)
        }
        func generated(_ data: Data, cache: Double = Self.movingSeconds) -> FileAttributes {
            FileAttributes(inode: inode, kind: .regular, permissions: 0o444, size: UInt64(data.count), cacheSeconds: cache)
        }
        switch place {
        case .root, .sets, .incomplete, .hosts, .drills, .host:
            return directory()
        case .readme:
            return generated(Self.readme, cache: Self.stableSeconds)
        case .latest, .hostLink:
            let target = try readlink(inode)
            return FileAttributes(inode: inode, kind: .symlink, permissions: 0o777, size: UInt64(target.utf8.count),
                                  cacheSeconds: Self.movingSeconds)
        case let .drill(set, drill, json):
            return generated(try drillReport(set: set, drill: drill, json: json))
        case let .set(id):
            return directory(at: try info(id).record.startedAt)
        case let .setJSON(id):
            return generated(try setJSON(info(id)))
        case .vaults, .vault(_, _, "/"):
            return directory(0o500, cache: Self.stableSeconds)
        case let .vault(id, vault, path):
            guard case let .vault(entry)? = try known.withLock({ $0[inode] })
                    ?? catalog.listVaultDirectory(vault: vault, Self.parent(path), in: info(id).record)
                        .first(where: { $0.entry.path == path }).map({ Known.vault($0.entry) }) else { throw FUSEError(ENOENT) }
            let started = try info(id).record.startedAt
            if entry.kind == .directory { return directory(0o500, cache: Self.stableSeconds, at: started) }
            return FileAttributes(inode: inode, kind: .regular, permissions: 0o400, size: UInt64(max(0, entry.size)),
                                  modified: Self.timestamp(started), cacheSeconds: Self.stableSeconds)
        case let .path(id, path):
            let set = try info(id)
            guard let entry = try fileRow(inode, path, in: id), let kind = Self.kind(entry.kind) else { throw FUSEError(ENOENT) }
            let modified = Timestamp(seconds: entry.mtimeNanoseconds.floorDivided(by: 1_000_000_000),
                                     nanoseconds: Int32(entry.mtimeNanoseconds.floorModulo(by: 1_000_000_000)))
            var attributes = FileAttributes(inode: inode, kind: kind, permissions: UInt16(entry.mode & 0o7777),
                                            size: UInt64(max(0, entry.size)), uid: entry.uid, gid: entry.gid,
                                            linkCount: kind == .directory ? 2 : 1, modified: modified,
                                            cacheSeconds: Self.stableSeconds)
            if set.isKeyMaterial(path) && kind != .symlink {
                attributes.uid = 0
                attributes.gid = 0
                attributes.permissions = kind == .directory ? 0o500 : 0o400
            }
            return attributes
        }
    }

    // MARK: Helpers

    static func kind(_ kind: EntryKind) -> FileAttributes.Kind? {
        switch kind {
        case .file: .regular
        case .directory: .directory
        case .symlink: .symlink
        case .other: nil
        }
    }

    static func join(_ path: String, _ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func lastComponent(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    static func timestamp(_ date: Date) -> Timestamp {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        return Timestamp(seconds: Int64(seconds), nanoseconds: Int32((date.timeIntervalSince1970 - seconds) * 1e9))
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 { (self - floorModulo(by: divisor)) / divisor }
    fileprivate func floorModulo(by divisor: Int64) -> Int64 { ((self % divisor) + divisor) % divisor }
}
