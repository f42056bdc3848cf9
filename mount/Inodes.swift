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
/// identity with the top bit set (so never a fixed number). The table holds only the places the kernel knows
/// (FUSE's lookup count above zero), so it stays as small as the kernel's own inode cache: `forget` drops a
/// place. A collision (about 1 in 2^63 per pair) moves the later place on by rehashing with a counter.
final class InodeTable: Sendable {
    private struct Known {
        var place: Place
        var lookups: UInt64
    }

    private let places = Mutex<[UInt64: Known]>([:])

    /// The number of `place` for an entry the kernel now holds (a `lookup` answer): counted until forgotten.
    func lookedUp(_ place: Place) -> UInt64 {
        if let fixed = place.fixedInode { return fixed }
        return places.withLock { table in
            let number = Self.number(for: place, in: table)
            table[number, default: Known(place: place, lookups: 0)].lookups += 1
            return number
        }
    }

    /// The number of `place` without holding it (a `readdir` entry, which the kernel does not count).
    func number(for place: Place) -> UInt64 {
        if let fixed = place.fixedInode { return fixed }
        return places.withLock { Self.number(for: place, in: $0) }
    }

    /// The kernel dropped `lookups` references; returns true when the place is gone from the table.
    func forget(_ inode: UInt64, lookups: UInt64) -> Bool {
        places.withLock { table in
            guard var known = table[inode] else { return false }
            guard known.lookups > lookups else {
                table.removeValue(forKey: inode)
                return true
            }
            known.lookups -= lookups
            table[inode] = known
            return false
        }
    }

    /// How many places the kernel holds now.
    var count: Int { places.withLock { $0.count } }

    private static func number(for place: Place, in table: [UInt64: Known]) -> UInt64 {
        var salt = 0
        while true {
            let digest = Sodium.blake2b256(Data((place.identity + (salt == 0 ? "" : "\0\(salt)")).utf8))
            let number = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } | (1 << 63)
            if let existing = table[number], existing.place != place {
                salt += 1
                continue
            }
            return number
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
        default: places.withLock { $0[inode]?.place }
        }
    }
}
