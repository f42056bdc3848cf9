import Catalog
import Foundation

/// `valkyrie diff SET_A SET_B`: what changed between two sets, per item and, for vaults, by logical path.
/// Folders count only when added or removed (their own version changes with anything below them).
public struct SetDiff: Codable, Sendable {
    public struct Changes: Codable, Sendable, Equatable {
        /// The item (root) or vault name.
        public var name: String
        public var added: [String] = []
        public var removed: [String] = []
        public var changed: [String] = []
        var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
    }

    public var from: String
    public var to: String
    public var items: [Changes]
    public var vaults: [Changes]

    public init(catalog: Catalog, from a: SetRecord, to b: SetRecord) throws {
        from = a.name
        to = b.name
        items = Self.compare(try catalog.entries(of: a).map { ($0.item, $0.entry.path, $0.entry.version, $0.entry.kind) },
                             try catalog.entries(of: b).map { ($0.item, $0.entry.path, $0.entry.version, $0.entry.kind) })
        vaults = Self.compare(try catalog.vaultEntries(of: a).map { ($0.entry.vault, $0.entry.path, $0.entry.version, $0.entry.kind) },
                              try catalog.vaultEntries(of: b).map { ($0.entry.vault, $0.entry.path, $0.entry.version, $0.entry.kind) })
    }

    private static func compare(_ a: [(String, String, String, EntryKind)], _ b: [(String, String, String, EntryKind)]) -> [Changes] {
        struct Key: Hashable { var group: String; var path: String }
        let before = Dictionary(a.map { (Key(group: $0.0, path: $0.1), ($0.2, $0.3)) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(b.map { (Key(group: $0.0, path: $0.1), ($0.2, $0.3)) }, uniquingKeysWith: { first, _ in first })
        var groups: [String: Changes] = [:]
        for (key, value) in after {
            if let old = before[key] {
                if old.0 != value.0 && !(old.1 == .directory && value.1 == .directory) {
                    groups[key.group, default: Changes(name: key.group)].changed.append(key.path)
                }
            } else {
                groups[key.group, default: Changes(name: key.group)].added.append(key.path)
            }
        }
        for key in before.keys where after[key] == nil {
            groups[key.group, default: Changes(name: key.group)].removed.append(key.path)
        }
        return groups.values.filter { !$0.isEmpty }.map {
            Changes(name: $0.name, added: $0.added.sorted(), removed: $0.removed.sorted(), changed: $0.changed.sorted())
        }.sorted { $0.name < $1.name }
    }
}
