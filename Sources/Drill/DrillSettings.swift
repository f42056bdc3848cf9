import Foundation

/// What a drill needs besides the set: where PostgreSQL's programs are, an optional server to restore into,
/// the operator's GPG keyring, and how many files to sample per vault.
public struct DrillSettings: Sendable {
    /// Folder of initdb, pg_ctl and pg_restore (nil: the newest under /usr/lib/postgresql).
    public var postgresBinDirectory: String?
    /// `--db`: a libpq key=value conninfo of a server to restore into (a new database, dropped afterwards).
    public var conninfo: String?
    /// The keyring holding the secret key the set's exports are encrypted to (nil: $GNUPGHOME).
    public var gnupgHome: String?
    public var sample: Int
    /// Where the scratch folder is made.
    public var temporaryDirectory: String

    public init(postgresBinDirectory: String? = nil, conninfo: String? = nil, gnupgHome: String? = nil, sample: Int = 3,
                temporaryDirectory: String = NSTemporaryDirectory()) {
        self.postgresBinDirectory = postgresBinDirectory
        self.conninfo = conninfo
        self.gnupgHome = gnupgHome
        self.sample = sample
        self.temporaryDirectory = temporaryDirectory
    }

    /// The PostgreSQL program `name`, from the configured folder or the newest installed major version.
    func tool(_ name: String) -> String {
        if let dir = postgresBinDirectory { return "\(dir)/\(name)" }
        let installed = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        if let newest = installed.compactMap(Int.init).max() { return "/usr/lib/postgresql/\(newest)/bin/\(name)" }
        return name
    }
}
