import Catalog
import Foundation

/// What the mount needs about one set, read once: its record and details, and the names of its vaults.
struct SetInfo: Sendable {
    var details: SetDetails
    var vaults: [String]

    var record: SetRecord { details.set }
    var id: UUID { details.set.id }

    init(details: SetDetails, vaults: [String]) {
        self.details = details
        self.vaults = vaults
    }

    /// Key material: shown to root only whatever its captured mode (docs/set-layout.md).
    func isKeyMaterial(_ path: String) -> Bool {
        for prefix in ["/keys", "/exports", "/var/lib/swtpm"] where path == prefix || path.hasPrefix(prefix + "/") { return true }
        // Vaulthalla's sealed secrets are folders (`.sealed_<name>.blob/<name>.priv`): everything in them counts.
        if path.split(separator: "/").contains(where: { $0.hasPrefix(".sealed_") }) { return true }
        return details.items.contains { $0.keyMaterial && (path == "/" + $0.item || path.hasPrefix("/" + $0.item + "/")) }
    }
}
