import CSQLite
import Foundation
import GRDB
import Support

/// The catalog: one SQLite file holding the append-only, hash-chained event log and the projections derived
/// from it (sets, items, exports, drills, restores, file and vault index).
///
/// Every module that records what happened appends through this type; every command that shows history
/// reads through it. Safe to share between threads and between processes (appends serialize on SQLite's
/// write lock, so concurrent writers keep one linear chain).
public final class Catalog: Sendable {
    public enum OpenMode: Sendable {
        /// The catalog must exist (commands that only read or check).
        case existing
        /// Create the file if it is missing (commands that record, e.g. backup); its directory must exist.
        case create
        /// The catalog must exist and is only read (find, sets, log): one read-only connection, so the command
        /// never takes the write lock (GRDB's pool writes on open when the WAL is empty) and opens one connection
        /// instead of three. A catalog that still needs a migration is opened as with `.existing` and migrated.
        case reading
    }

    /// The catalog file.
    public let path: String
    /// Host and actor stamped on the events this process appends.
    public let origin: EventOrigin
    /// A pool (readers beside one writer), or one read-only connection for `.reading`.
    let pool: any DatabaseWriter

    /// Opens the catalog at `path`, applying this build's pending migrations.
    ///
    /// Refused with `OperatorError.badInput` (exit 2), the file left untouched: a missing directory, a missing
    /// file (`.existing`), a read-only file, a file that is not SQLite or not a Valkyrie catalog, a truncated or
    /// corrupted file, and a catalog whose recorded migrations include one this build does not know.
    public static func open(at path: String, mode: OpenMode = .existing, origin: EventOrigin = .current) throws -> Catalog {
        let path = URL(fileURLWithPath: path).standardizedFileURL.path
        let exists = try CatalogFile.check(path, mode: mode)
        if mode == .reading, let catalog = try openReadOnly(path, origin: origin) { return catalog }
        let pending = exists ? try CatalogErrors.mapping(path) { try Migrator.inspect(path: path) } : true
        let pool = try CatalogErrors.mapping(path) { try DatabasePool(path: path, configuration: configuration()) }
        // A committed event survives a power cut (GRDB sets WAL's NORMAL, which may lose the last commits): the
        // repository's chain head is written after the commit, and a catalog behind it reads as rolled back.
        try CatalogErrors.mapping(path) { try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") } }
        if pending { try CatalogErrors.mapping(path) { try Migrator.migrate(pool, path: path) } }
        return Catalog(path: path, origin: origin, pool: pool)
    }

    /// When a command ends: copies the WAL into the database file and empties it, so the next process to open
    /// the catalog does not first re-read it whole (up to ~40 MiB) to rebuild its index. Skipped, the WAL kept
    /// for a later command, when another connection is busy with the catalog within 0.2 s, or when this one
    /// is read-only.
    public func checkpointWhenDone() {
        try? pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA busy_timeout = 200")
            _ = try db.checkpoint(.truncate)
        }
    }

    /// A catalog opened on one read-only connection, checked as `Migrator.inspect` checks it; nil (nothing
    /// written) when a migration is pending.
    private static func openReadOnly(_ path: String, origin: EventOrigin) throws -> Catalog? {
        var config = configuration()
        config.readonly = true
        let queue = try CatalogErrors.mapping(path) { try DatabaseQueue(path: path, configuration: config) }
        let pending = try CatalogErrors.mapping(path) { try queue.read { db in try Migrator.inspect(db, path: path) } }
        guard !pending else {
            try? queue.close()
            return nil
        }
        return Catalog(path: path, origin: origin, pool: queue)
    }

    private init(path: String, origin: EventOrigin, pool: any DatabaseWriter) {
        self.path = path
        self.origin = origin
        self.pool = pool
    }

    /// WAL, a busy timeout for concurrent writers, and SQLite's hardening switches on every connection.
    static func configuration() -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(60)
        config.label = "valkyrie-catalog"
        config.prepareDatabase { db in
            guard valkyrie_sqlite_enable_defensive(db.sqliteConnection) == SQLITE_OK else {
                throw OperatorError.failed("cannot turn on SQLite's defensive mode", remedy: "install SQLite 3.26 or newer")
            }
            try db.execute(sql: "PRAGMA trusted_schema = OFF")
            // 32 MiB of page cache: the UUID and per-set indexes take random inserts as the log grows.
            try db.execute(sql: "PRAGMA cache_size = -32768")
            // Checkpoint every ~40 MiB of WAL instead of every 4 MiB: a large append batch then pays a few
            // checkpoints (each a write of the pages and two syncs) instead of one per four commits, and a page
            // changed by several commits is copied into the database once. Commits still sync the WAL.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
        return config
    }

    /// Reads in a consistent snapshot.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try CatalogErrors.mapping(path) { try pool.read(body) }
    }

    /// Writes in one `BEGIN IMMEDIATE` transaction: the write lock is taken before the chain head is read, so
    /// concurrent appenders (in this or other processes) queue up instead of forking the chain.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try CatalogErrors.mapping(path) {
            try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        }
    }

    /// Work on the writer connection outside a transaction (staging in temporary tables).
    func writeWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try CatalogErrors.mapping(path) { try pool.writeWithoutTransaction(body) }
    }

    /// Settings of the writing connection, for `catalog verify` and the tests.
    public func settings() throws -> CatalogSettings {
        try writeWithoutTransaction { db in
            CatalogSettings(
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                busyTimeoutMilliseconds: try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0,
                trustedSchema: try Bool.fetchOne(db, sql: "PRAGMA trusted_schema") ?? true,
                synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 0,
                defensive: valkyrie_sqlite_defensive(db.sqliteConnection) == 1,
                migrations: try Row.fetchAll(db, sql: "SELECT version, name, sha256 FROM catalog_migrations ORDER BY version")
                    .map { AppliedMigration(version: $0["version"], name: $0["name"], sha256: $0["sha256"]) })
        }
    }
}

/// The catalog file's SQLite settings and schema history, as `catalog verify` reports them.
public struct CatalogSettings: Codable, Sendable, Equatable {
    public var journalMode: String
    public var busyTimeoutMilliseconds: Int
    public var trustedSchema: Bool
    /// SQLite's `synchronous` level: 2 (FULL).
    public var synchronous: Int
    public var defensive: Bool
    public var migrations: [AppliedMigration]
}

public struct AppliedMigration: Codable, Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sha256: String
}
