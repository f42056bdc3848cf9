import Catalog
import Foundation

/// What the mount needs about one set, read once: its record and details, the folders above its roots, and
/// the names of its vaults.
struct SetInfo: Sendable {
    var details: SetDetails
    /// Paths in the set that are folders because a root lies below them (`/var`, `/var/lib`, `/var/lib/vaulthalla`).
    var folders: Set<String>
    var vaults: [String]

    var record: SetRecord { details.set }
    var id: UUID { details.set.id }

    init(details: SetDetails, vaultsFromIndex: [String]) {
        self.details = details
        var folders = Set<String>()
        for item in details.items {
            let parts = item.item.split(separator: "/")
            // Every prefix is a folder, the root itself too unless the index holds it as a file (looked up first).
            for count in 1...max(1, parts.count) { folders.insert("/" + parts.prefix(count).joined(separator: "/")) }
        }
        self.folders = folders
        self.vaults = vaultsFromIndex
    }

    /// The folder names directly inside `path` that come from roots.
    func folders(in path: String) -> [String] {
        let prefix = path == "/" ? "/" : path + "/"
        return folders.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }
            .map { String($0.dropFirst(prefix.count)) }
    }

    /// Key material: shown to root only whatever its captured mode (docs/set-layout.md).
    func isKeyMaterial(_ path: String) -> Bool {
        for prefix in ["/keys", "/exports", "/var/lib/swtpm"] where path == prefix || path.hasPrefix(prefix + "/") { return true }
        if path.split(separator: "/").last?.hasPrefix(".sealed_") == true { return true }
        return details.items.contains { $0.keyMaterial && (path == "/" + $0.item || path.hasPrefix("/" + $0.item + "/")) }
    }
}
