import Catalog
import Foundation
import Support

extension GlobalOptions {
    /// The catalog file: `--catalog`, then `$VALKYRIE_CATALOG`, then the config's `catalog`, then the default.
    func catalogPath() throws -> String {
        if let catalog { return catalog }
        if let env = ProcessInfo.processInfo.environment["VALKYRIE_CATALOG"], !env.isEmpty { return env }
        if let configured = try loadConfiguration().catalog { return configured }
        return "/var/lib/valkyrie/catalog.db"
    }

    /// Opens the catalog; commands that only read or check use `.existing`, so a mistyped path is an error
    /// rather than a new empty catalog.
    func openCatalog(_ mode: Catalog.OpenMode = .existing) throws -> Catalog {
        let catalog = try Catalog.open(at: catalogPath(), mode: mode)
        ChainSync.opened(catalog)
        return catalog
    }
}
