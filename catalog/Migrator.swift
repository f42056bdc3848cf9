import Crypto
import Foundation
import GRDB
import Support

/// One numbered SQL file of `catalog/migrations` (`NNNN_name.sql`), shipped as a bundle resource.
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: String
    /// SHA-256 of the file's bytes, recorded when applied: a shipped migration never changes.
    let sha256: String
}

/// Applies the bundled migrations in order, one transaction each, recording version, name and checksum in
/// `catalog_migrations`; refuses, without writing, a catalog that records a migration this build lacks.
enum Migrator {
    static let bundled: [Migration] = loadBundled()

    private static func loadBundled() -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "migrations", withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.compactMap { name -> Migration? in
            guard name.hasSuffix(".sql"), let underscore = name.firstIndex(of: "_"),
                  let version = Int(name[..<underscore]),
                  let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
            else { return nil }
            return Migration(version: version, name: String(name.dropLast(4)), sql: String(decoding: data, as: UTF8.self),
                             sha256: SHA256.hash(data: data).hexString)
        }.sorted { $0.version < $1.version }
    }

    /// Read-only look at an existing file: a foreign database or one from a newer Valkyrie is refused. Returns
    /// whether a bundled migration is still to be applied (so a catalog that is up to date is opened without
    /// taking the write lock once per migration).
    static func inspect(path: String) throws -> Bool {
        var config = Catalog.configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        return try queue.read { db in try inspect(db, path: path) }
    }

    /// The same on a connection that is open already.
    static func inspect(_ db: Database, path: String) throws -> Bool {
        let objects = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_schema") ?? 0
        let application = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if application == 0 {
            guard objects == 0 else { throw notACatalog(path) }
            return true
        }
        guard try db.tableExists("catalog_migrations") else { throw notACatalog(path) }
        let done = try recorded(db)
        try check(recorded: done, path: path)
        return bundled.isEmpty || done.count < bundled.count
    }

    /// Applies what is pending. Each migration re-checks the record inside its write transaction, so two
    /// processes opening a new catalog at once apply each migration exactly once.
    static func migrate(_ pool: DatabasePool, path: String) throws {
        guard !bundled.isEmpty else {
            throw OperatorError.failed("this valkyrie build lacks its catalog migrations (valkyrie_Catalog resources)",
                                       remedy: "reinstall valkyrie with its resource bundle beside the binary")
        }
        for migration in bundled {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: """
                        CREATE TABLE IF NOT EXISTS catalog_migrations (
                            version INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL
                        ) STRICT
                        """)
                    let done = try recorded(db)
                    try check(recorded: done, path: path)
                    guard !done.contains(where: { $0.version == migration.version }) else { return .rollback }
                    try db.execute(sql: "PRAGMA application_id = \(CatalogFile.applicationID)")
                    try db.execute(sql: migration.sql)
                    try db.execute(sql: "INSERT INTO catalog_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)",
                                   arguments: [migration.version, migration.name, migration.sha256, UTCTime.string(Date())])
                    return .commit
                }
            }
        }
    }

    private static func recorded(_ db: Database) throws -> [AppliedMigration] {
        try Row.fetchAll(db, sql: "SELECT version, name, sha256 FROM catalog_migrations ORDER BY version").map {
            AppliedMigration(version: $0["version"], name: $0["name"], sha256: $0["sha256"])
        }
    }

    private static func check(recorded: [AppliedMigration], path: String) throws {
        for applied in recorded {
            guard let known = bundled.first(where: { $0.version == applied.version }) else {
                throw OperatorError.badInput(
                    "catalog \(path) has schema migration \(applied.name), which this valkyrie does not know: a newer valkyrie wrote it",
                    remedy: "use that newer valkyrie (or newer) with this catalog; it was left untouched")
            }
            guard known.sha256 == applied.sha256 else {
                throw OperatorError.badInput(
                    "catalog \(path) recorded migration \(applied.name) with checksum \(applied.sha256.prefix(12))..., this build ships \(known.sha256.prefix(12))...",
                    remedy: "use the valkyrie build that created this catalog; it was left untouched")
            }
        }
    }

    private static func notACatalog(_ path: String) -> OperatorError {
        .badInput("catalog \(path) is a SQLite database but not a Valkyrie catalog",
                  remedy: "point --catalog at the Valkyrie catalog (default /var/lib/valkyrie/catalog.db)")
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal (Support's, which writes the digits directly: `String(format:)` per byte was a
    /// visible part of opening a catalog, which checks every migration's SHA-256).
    var hexString: String { Data(self).hexString }
}
