import Capture
import Catalog
import Foundation
import Repository
import Support

/// `valkyrie restore SET --full --root DIR [--db CONNINFO]`: every item of a set under one root folder (each
/// at its path in the set), then the dump into a PostgreSQL database with pg_restore.
public enum FullRestore {
    public struct Step: Codable, Sendable {
        public var action: String
        public var item: String?
        public var target: String
        public var files: Int?
        public var bytes: Int64?
        public var warnings: [String]?
    }

    public struct Summary: Codable, Sendable {
        public var set: String
        public var root: String
        public var dryRun: Bool
        public var steps: [Step]
        public var warnings: Int
    }

    /// `pgRestore` is the pg_restore to run (a path or a name on PATH).
    public static func run(_ source: SetSource, root: String, database: String?, pgRestore: String, dryRun: Bool,
                           step report: (Step) -> Void = { _ in }) async throws -> Summary {
        let items = try source.catalog.details(of: source.set).items.map(\.item).sorted()
        for item in items { try Staging.checkFree("\(root)/\(item)", overwrite: false) }
        let dump = "\(root)/\(SetLayout.postgres)/vaulthalla.dump"
        let dbStep = database.map {
            Step(action: "pg_restore --exit-on-error --dbname '\(redacted($0))' \(dump)", item: SetLayout.postgres, target: redacted($0))
        }
        var summary = Summary(set: source.set.name, root: root, dryRun: dryRun, steps: [], warnings: 0)
        if dryRun {
            for item in items {
                let step = Step(action: "restore \(source.set.name):/\(item)", item: item, target: "\(root)/\(item)")
                report(step)
                summary.steps.append(step)
            }
            if let dbStep { report(dbStep); summary.steps.append(dbStep) }
            return summary
        }
        let staging = try Staging(in: root)
        defer { staging.discard() }
        for item in items {
            let result = try await RawRestore.restore(try source.entry("/" + item), at: try staging.path(item), source: source)
            let step = Step(action: "restore \(source.set.name):/\(item)", item: item, target: "\(root)/\(item)", files: result.files,
                            bytes: result.bytes, warnings: result.warnings.map { $0.replacingOccurrences(of: staging.folder, with: root) })
            report(step)
            summary.steps.append(step)
            summary.warnings += result.warnings.count
        }
        for item in items { try staging.place(item, overwrite: false) }
        for step in summary.steps {
            try source.catalog.append(FileRestored(set: source.set.id, item: step.item, path: "/" + (step.item ?? ""), target: step.target,
                                                   size: step.bytes ?? 0, digest: try source.entry("/" + (step.item ?? "")).entry.version))
        }
        if let database, let dbStep {
            let result = try Subprocess.run(pgRestore, ["--exit-on-error", "--dbname", database, dump])
            guard result.status == 0 else {
                throw OperatorError.failed("pg_restore of \(dump) into \(redacted(database)) failed (exit \(result.status)): \(result.stderrSummary)",
                                           remedy: "restore into an empty database made for it (createdb), under the role the dump's owner names; the files are restored under \(root)")
            }
            report(dbStep)
            summary.steps.append(dbStep)
            let size = (try? FileManager.default.attributesOfItem(atPath: dump)[.size] as? Int64) ?? 0
            try source.catalog.append(FileRestored(set: source.set.id, item: SetLayout.postgres, path: "/\(SetLayout.postgres)/vaulthalla.dump",
                                                   target: "postgresql: \(redacted(database))", size: size,
                                                   digest: try source.entry("/\(SetLayout.postgres)/vaulthalla.dump").entry.version))
        }
        return summary
    }

    /// A conninfo without its password, for messages and events.
    static func redacted(_ conninfo: String) -> String {
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
            return conninfo.replacingOccurrences(of: #":[^:@/]*@"#, with: "@", options: .regularExpression)
        }
        return conninfo.replacingOccurrences(of: #"password\s*=\s*('[^']*'|\S+)"#, with: "password=***", options: .regularExpression)
    }
}
