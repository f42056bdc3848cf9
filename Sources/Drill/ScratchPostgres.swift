import Foundation
import LibPQ
import Support
import Synchronization

/// Where the set's dump is restored: a throwaway cluster in the scratch folder (unix socket only), or a new
/// database on a given server. `tearDown()` (safe from a signal handler, at any step) stops what runs and drops
/// the cluster or database.
final class ScratchPostgres: Sendable {
    /// Conninfo of the restored database.
    let conninfo: String
    let description: String
    private let base: String?
    private let settings: DrillSettings
    private let serverConninfo: String?
    private let database: String
    /// The child working now (initdb, pg_restore), and whether teardown has begun.
    private let state = Mutex<(child: RunningProcess?, stopped: Bool)>((nil, false))

    private init(conninfo: String, description: String, base: String?, serverConninfo: String?, database: String,
                 settings: DrillSettings) {
        self.conninfo = conninfo
        self.description = description
        self.base = base
        self.serverConninfo = serverConninfo
        self.database = database
        self.settings = settings
    }

    private static let port = 5432  // the socket lives in our own folder, so the port only names the socket file
    private var dataDirectory: String? { base.map { "\($0)/data" } }

    /// A cluster to be made in `folder/pg` by `start()`.
    static func cluster(in folder: ScratchFolder, settings: DrillSettings) -> ScratchPostgres {
        let base = "\(folder.path)/pg"
        return ScratchPostgres(conninfo: "host=\(base) port=\(port) user=postgres dbname=vaulthalla",
                               description: "scratch cluster in \(base)", base: base, serverConninfo: nil,
                               database: "vaulthalla", settings: settings)
    }

    /// A new database `valkyrie_drill_<id>` on the server of `conninfo` (key=value form), made by `start()`.
    static func database(on conninfo: String, id: UUID, settings: DrillSettings) -> ScratchPostgres {
        let name = "valkyrie_drill_\(id.uuidString.prefix(8).lowercased())"
        // In a key=value conninfo the last value of a keyword wins.
        return ScratchPostgres(conninfo: "\(conninfo) dbname=\(name)", description: "database \(name) of the --db server",
                               base: nil, serverConninfo: conninfo, database: name, settings: settings)
    }

    /// PostgreSQL server programs run as the postgres user when we are root (initdb refuses root).
    private func asPostgres(_ tool: String, _ arguments: [String]) -> (String, [String]) {
        geteuid() == 0 ? ("runuser", ["-u", "postgres", "--", tool] + arguments) : (tool, arguments)
    }

    /// Runs a child that teardown can stop; throws once teardown has begun.
    private func tracked(_ command: (String, [String])) throws -> (status: Int32, stderr: String) {
        let process = try Subprocess.start(command.0, command.1)
        let stopped = state.withLock { state in
            if !state.stopped { state.child = process }
            return state.stopped
        }
        if stopped { process.signal(SIGTERM) }
        _ = try? process.output.readToEnd()
        let result = process.wait()
        state.withLock { $0.child = nil }
        try checkRunning()
        return result
    }

    private func checkRunning() throws {
        if state.withLock({ $0.stopped }) { throw OperatorError.failed("the drill was stopped") }
    }

    /// initdb (the folder owned by postgres), started with its socket there and no TCP; or the new database.
    func start() throws {
        guard let base, let data = dataDirectory else {
            try PGConnection(conninfo: serverConninfo ?? "").execute("CREATE DATABASE \(database)")
            return
        }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        if geteuid() == 0 {
            let chown = try Subprocess.run("chown", ["postgres:", base])
            guard chown.status == 0 else {
                throw OperatorError.failed("cannot give \(base) to the postgres user: \(chown.stderrSummary)",
                                           remedy: "create a `postgres` system user (the postgresql package does) or use --db")
            }
        }
        let initdb = try tracked(asPostgres(settings.tool("initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]))
        guard initdb.status == 0 else {
            throw OperatorError.failed("initdb of the scratch cluster failed: \(initdb.stderr.split(whereSeparator: \.isNewline).last ?? "")",
                                       remedy: "check postgres.bin_dir in the config (it must hold initdb)")
        }
        let options = "-k \(base) -p \(Self.port) -c listen_addresses= -c fsync=off"
        let (tool, arguments) = asPostgres(settings.tool("pg_ctl"), ["-D", data, "-l", "\(base)/server.log", "-w", "-o", options, "start"])
        let started = try Subprocess.run(tool, arguments, captureOutput: false)  // the server must not hold our pipes
        try checkRunning()
        guard started.status == 0 else {
            let log = (try? String(contentsOfFile: "\(base)/server.log", encoding: .utf8))?
                .split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw OperatorError.failed("the scratch PostgreSQL did not start: \(log)", remedy: "check postgres.bin_dir in the config")
        }
        try PGConnection(conninfo: "host=\(base) port=\(Self.port) user=postgres dbname=postgres").execute("CREATE DATABASE vaulthalla")
    }

    /// pg_restore of the dump (no owners or grants: the roles of the host need not exist here).
    func restore(dump: String) throws -> (status: Int32, errors: [String]) {
        let result = try tracked((settings.tool("pg_restore"), ["--no-owner", "--no-privileges", "--dbname=\(conninfo)", dump]))
        return (result.status, result.stderr.split(whereSeparator: \.isNewline).map(String.init).filter { $0.contains("error") })
    }

    /// Stops the child at work and the cluster (immediately; it is thrown away), or drops the database.
    func tearDown() {
        let child = state.withLock { state in
            state.stopped = true
            return state.child
        }
        if let child {
            child.signal(SIGTERM)
            Self.waitGone(child.pid)
        }
        if let data = dataDirectory {
            let pidFile = "\(data)/postmaster.pid"
            guard FileManager.default.fileExists(atPath: pidFile) else { return }
            let (tool, arguments) = asPostgres(settings.tool("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"])
            _ = try? Subprocess.run(tool, arguments, captureOutput: false)
            // A postmaster that did not stop is killed: nothing of the drill may outlive it.
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
               let pid = Int32(text.split(whereSeparator: \.isNewline).first ?? ""), kill(pid, 0) == 0 {
                kill(pid, SIGKILL)
                Self.waitGone(pid)
            }
        } else if let serverConninfo {
            let admin = try? PGConnection(conninfo: serverConninfo)
            _ = try? admin?.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }

    /// Waits up to five seconds for `pid` to exit (a zombie, with an empty command line, counts as gone).
    static func waitGone(_ pid: pid_t) {
        for _ in 0..<100 {
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !cmdline.isEmpty else { return }
            usleep(50_000)
        }
    }
}
