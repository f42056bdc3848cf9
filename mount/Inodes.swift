import Foundation
import Sodium
import Synchronization

/// Everything the mount shows, each one place.
enum Place: Hashable, Sendable {
    case root, sets, incomplete, hosts, drills, readme, latest
    case host(String)
    /// `hosts/<host>/<set>`
    case hostLink(UUID)
    case drill(set: UUID, drill: UUID, json: Bool)
    /// A set's folder (`sets/<set>` or `incomplete/<set>`).
    case set(UUID)
    case setJSON(UUID)
    /// A path in the set (`/etc/vaulthalla/config.yaml`), from the file index or a folder above a root.
    case path(UUID, String)
    case vaults(UUID)
    /// A vault's logical path (`/` for the vault's folder).
    case vault(UUID, vault: String, path: String)

    /// Fixed inode numbers of the top level (FUSE's root is 1).
    var fixedInode: UInt64? {
        switch self {
        case .root: 1
        case .sets: 2
        case .incomplete: 3
        case .hosts: 4
        case .drills: 5
        case .readme: 6
        case .latest: 7
        default: nil
        }
    }

    /// What the inode number is derived from: the set's UUID and the place in it, so numbers are the same on
    /// every mount of the catalog (and across catalog rebuilds, which keep set UUIDs).
    var identity: String {
        switch self {
        case let .host(host): "host\0\(host)"
        case let .hostLink(set): "link\0\(set.uuidString)"
        case let .drill(set, drill, json): "drill\0\(set.uuidString)\0\(drill.uuidString)\0\(json)"
        case let .set(set): "set\0\(set.uuidString)"
        case let .setJSON(set): "set.json\0\(set.uuidString)"
        case let .path(set, path): "path\0\(set.uuidString)\0\(path)"
        case let .vaults(set): "vaults\0\(set.uuidString)"
        case let .vault(set, vault, path): "vault\0\(set.uuidString)\0\(vault)\0\(path)"
        default: ""
        }
    }
}

/// Inode numbers: the top level fixed; everything else the first 63 bits of BLAKE2b-256 of the place's
/// identity with the top bit set (so never a fixed number). The table remembers the places handed to the
/// kernel; a collision (about 1 in 2^63 per pair) moves the later place on by rehashing with a counter.
final class InodeTable: Sendable {
    private let places = Mutex<[UInt64: Place]>([:])

    func inode(for place: Place) -> UInt64 {
        if let fixed = place.fixedInode { return fixed }
        var salt = 0
        while true {
            let digest = Sodium.blake2b256(Data((place.identity + (salt == 0 ? "" : "\0\(salt)")).utf8))
            let number = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } | (1 << 63)
            let taken = places.withLock { table -> Bool in
                if let existing = table[number] { return existing != place }
                table[number] = place
                return false
            }
            if !taken { return number }
            salt += 1
        }
    }

    func place(of inode: UInt64) -> Place? {
        switch inode {
        case 1: .root
        case 2: .sets
        case 3: .incomplete
        case 4: .hosts
        case 5: .drills
        case 6: .readme
        case 7: .latest
        default: places.withLock { $0[inode] }
        }
    }
}
