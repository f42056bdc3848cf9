import Capture
import Catalog
import Foundation
import LibPQ
import Support
import Testing

/// A PostgreSQL cluster of its own that asks for passwords over TCP (scram-sha-256), with a lab host in it:
/// the backup connects with host, user and password (pg_dump gets it through the environment), and a wrong
/// password fails the set with PostgreSQL's own reason.
@Suite struct PasswordClusterTests {
    final class Cluster {
        let folder: String
        let port: Int
        let bin = ProcessInfo.processInfo.environment["VALKYRIE_TEST_PGBIN"] ?? ""

        init() throws {
            try CaptureHarness.requireServices()
            folder = "/tmp/vkpg-\(UUID().uuidString.prefix(8))"
            port = Int.random(in: 20_000..<60_000)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Subprocess.check("chown", ["postgres:postgres", folder])
            try Subprocess.check("runuser", ["-u", "postgres", "--", "\(bin)/initdb", "-D", "\(folder)/data", "-U", "postgres",
                                             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"])
            let started = try Subprocess.run("runuser", ["-u", "postgres", "--", "\(bin)/pg_ctl", "-D", "\(folder)/data", "-w",
                                                         "-l", "\(folder)/server.log", "-o",
                                                         "-k \(folder) -c listen_addresses=127.0.0.1 -p \(port) -c fsync=off", "start"],
                                             captureOutput: false)
            guard started.status == 0 else { throw OperatorError.failed("PostgreSQL did not start on port \(port)") }
        }

        var socketConninfo: String { "host=\(folder) port=\(port) user=postgres" }

        func stop() {
            _ = try? Subprocess.run("runuser", ["-u", "postgres", "--", "\(bin)/pg_ctl", "-D", "\(folder)/data", "-m", "immediate", "stop"],
                                    captureOutput: false)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test("host/user/password: the right password backs up, a wrong one fails the set naming the reason")
    func passwordAuthentication() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        let lab = try CaptureHarness(pg: cluster.socketConninfo)
        defer { lab.close() }
        let admin = try PGConnection(conninfo: "\(cluster.socketConninfo) dbname=postgres")
        try admin.execute("ALTER ROLE vaulthalla PASSWORD 'right horse battery'")

        var settings = try lab.settings()
        let tcp = "host=127.0.0.1 port=\(cluster.port) dbname=\(lab.database) user=vaulthalla"
        settings.database = .init(conninfo: "\(tcp) password='right horse battery'", binDirectory: cluster.bin)
        let (good, _, _) = try await lab.backup(settings)
        #expect(good.status == "complete")

        settings.database = .init(conninfo: "\(tcp) password=wrong", binDirectory: cluster.bin)
        await #expect { _ = try await lab.backup(settings) } throws: { error in
            let text = "\(error)"
            return text.contains("password authentication failed") && !text.contains("wrong") && text.contains("failed at postgres")
        }
        let sets = try Catalog.open(at: lab.catalogPath).sets(all: true, host: lab.host)
        #expect(sets.map(\.status) == [.complete, .failed])
    }
}
