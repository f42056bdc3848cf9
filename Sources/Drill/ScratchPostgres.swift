import Foundation
import LibPQ
import Support

/// Where the set's dump is restored: a throwaway cluster in the scratch folder (unix socket only), or a new
/// database on a given server. `tearDown()` stops the cluster or drops the database.
final class ScratchPostgres: @unchecked Sendable {
    /// Conninfo of the restored database.
    let conninfo: String
    let description: String
    private let dataDirectory: String?
    private let settings: DrillSettings
    private let serverConninfo: String?
    private let database: String

    private init(conninfo: String, description: String, dataDirectory: String?, serverConninfo: String?, database: String,
                 settings: DrillSettings) {
        self.conninfo = conninfo
        self.description = description
        self.dataDirectory = dataDirectory
        self.serverConninfo = serverConninfo
        self.database = database
        self.settings = settings
    }

    /// Runs a PostgreSQL server program as the postgres user when we are root (initdb refuses root).
    private static func asPostgres(_ tool: String, _ arguments: [String], captureOutput: Bool = true) throws -> Subprocess.Result {
        if geteuid() == 0 {
            return try Subprocess.run("runuser", ["-u", "postgres", "--", tool] + arguments, captureOutput: captureOutput)
        }
        return try Subprocess.run(tool, arguments, captureOutput: captureOutput)
    }

    /// initdb in `folder/pg` (owned by postgres), started with its socket there and no TCP.
    static func cluster(in folder: ScratchFolder, settings: DrillSettings) throws -> ScratchPostgres {
        let base = "\(folder.path)/pg"
        let data = "\(base)/data"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        if geteuid() == 0 {
            let chown = try Subprocess.run("chown", ["postgres:", base])
            guard chown.status == 0 else {
                throw OperatorError.failed("cannot give \(base) to the postgres user: \(chown.stderrSummary)",
                                           remedy: "create a `postgres` system user (the postgresql package does) or use --db")
            }
        }
        let initdb = try asPostgres(settings.tool("initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
        guard initdb.status == 0 else {
            throw OperatorError.failed("initdb of the scratch cluster failed: \(initdb.stderrSummary)",
                                       remedy: "check postgres.bin_dir in the config (it must hold initdb)")
        }
        let port = 5432  // the socket lives in our own folder, so the port only names the socket file
        let scratch = ScratchPostgres(conninfo: "host=\(base) port=\(port) user=postgres dbname=vaulthalla",
                                      description: "scratch cluster in \(base)", dataDirectory: data, serverConninfo: nil,
                                      database: "vaulthalla", settings: settings)
        let options = "-k \(base) -p \(port) -c listen_addresses= -c fsync=off"
        let started = try asPostgres(settings.tool("pg_ctl"), ["-D", data, "-l", "\(base)/server.log", "-w", "-o", options, "start"],
                                     captureOutput: false)
        guard started.status == 0 else {
            scratch.tearDown()
            let log = (try? String(contentsOfFile: "\(base)/server.log", encoding: .utf8))?
                .split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw OperatorError.failed("the scratch PostgreSQL did not start: \(log)", remedy: "check postgres.bin_dir in the config")
        }
        do {
            let admin = try PGConnection(conninfo: "host=\(base) port=\(port) user=postgres dbname=postgres")
            try admin.execute("CREATE DATABASE vaulthalla")
        } catch {
            scratch.tearDown()
            throw error
        }
        return scratch
    }

    /// A new database `valkyrie_drill_<id>` on the server of `conninfo` (key=value form).
    static func database(on conninfo: String, id: UUID, settings: DrillSettings) throws -> ScratchPostgres {
        let name = "valkyrie_drill_\(id.uuidString.prefix(8).lowercased())"
        let admin = try PGConnection(conninfo: conninfo)
        try admin.execute("CREATE DATABASE \(name)")
        // In a key=value conninfo the last value of a keyword wins.
        return ScratchPostgres(conninfo: "\(conninfo) dbname=\(name)", description: "database \(name) of the --db server",
                               dataDirectory: nil, serverConninfo: conninfo, database: name, settings: settings)
    }

    /// pg_restore of the dump (no owners or grants: the roles of the host need not exist here).
    func restore(dump: String) throws -> (status: Int32, errors: [String]) {
        let result = try Subprocess.run(settings.tool("pg_restore"), ["--no-owner", "--no-privileges", "--dbname=\(conninfo)", dump])
        let errors = result.stderrText.split(whereSeparator: \.isNewline).map(String.init).filter { $0.contains("error") }
        return (result.status, errors)
    }

    /// Stops the cluster (immediately; it is thrown away) or drops the database. Safe to call twice.
    func tearDown() {
        if let dataDirectory {
            let pidFile = "\(dataDirectory)/postmaster.pid"
            guard FileManager.default.fileExists(atPath: pidFile) else { return }
            _ = try? Self.asPostgres(settings.tool("pg_ctl"), ["-D", dataDirectory, "-m", "immediate", "-w", "stop"], captureOutput: false)
            // A postmaster that did not stop is killed: nothing of the drill may outlive it.
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
               let pid = Int32(text.split(whereSeparator: \.isNewline).first ?? ""), kill(pid, 0) == 0 {
                kill(pid, SIGKILL)
            }
        } else if let serverConninfo {
            let admin = try? PGConnection(conninfo: serverConninfo)
            _ = try? admin?.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }
}
