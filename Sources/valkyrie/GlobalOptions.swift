import ArgumentParser
import Foundation
import Support

/// Options every command takes, declared once.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Machine output: one JSON document on stdout; errors as JSON too.")
    var json = false

    @Option(name: .long, help: "Catalog file (default: $VALKYRIE_CATALOG, the config's `catalog`, /var/lib/valkyrie/catalog.db).")
    var catalog: String?

    @Option(name: .long, help: "Configuration file (default: $VALKYRIE_CONFIG, /etc/valkyrie/valkyrie.yaml).")
    var config: String?

    @Flag(name: .long, help: "More detail on stderr.")
    var verbose = false

    var output: Output { Output(json: json) }

    /// The configuration file path: `--config`, then `$VALKYRIE_CONFIG`, then the system default.
    var configPath: String { Self.configPath(flag: config) }

    static func configPath(flag: String?) -> String {
        flag ?? ProcessInfo.processInfo.environment["VALKYRIE_CONFIG"] ?? "/etc/valkyrie/valkyrie.yaml"
    }

    /// A file the operator named (`--config`, `$VALKYRIE_CONFIG`) must exist; the system default may be absent.
    static func configIsExplicit(flag: String?) -> Bool {
        flag != nil || ProcessInfo.processInfo.environment["VALKYRIE_CONFIG"] != nil
    }
}
