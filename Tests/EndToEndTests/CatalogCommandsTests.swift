import Catalog
import Foundation
import Support
import Testing

/// `valkyrie sets | show | log | catalog verify | catalog rebuild`, driven through the built binary against
/// catalogs recorded with the Catalog API.
@Suite struct CatalogCommandsTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func setsListsCompleteAndPartialSetsOnly() throws {
        try withHistory { dir, catalog, sets in
            let result = try valkyrie(["sets", "--catalog", catalog, "--json"])
            #expect(result.status == 0, "\(result.stderrText)")
            struct Listing: Decodable { let sets: [SetRecord] }
            let listing = try JSONFormat.decoder().decode(Listing.self, from: result.stdout)
            #expect(listing.sets.map(\.name) == [sets.complete.name, sets.otherHost.name, sets.partial.name])
            #expect(listing.sets.map(\.status) == [.complete, .complete, .partial])

            let human = try valkyrie(["sets", "--catalog", catalog])
            let lines = human.stdoutText.split(separator: "\n")
            #expect(human.status == 0 && lines.count == 4)
            #expect(lines[0].hasPrefix("SET ") && lines[0].contains("STATUS"))
            #expect(lines[3].contains(sets.partial.name) && lines[3].contains("partial (1 warnings)"))
            #expect(!human.stdoutText.contains(sets.failed.name) && !human.stdoutText.contains(sets.running.name))
        }
    }

    @Test func showFindsASetByNameOrUUID() throws {
        try withHistory { dir, catalog, sets in
            let byName = try valkyrie(["show", sets.complete.name, "--catalog", catalog, "--json"])
            #expect(byName.status == 0, "\(byName.stderrText)")
            let details = try JSONFormat.decoder().decode(SetDetails.self, from: byName.stdout)
            #expect(details.set.id == sets.complete.id)
            #expect(details.items.map(\.item) == ["postgres", "etc"])
            #expect(details.exports.count == 1 && details.restores.count == 1)
            let byID = try valkyrie(["show", sets.complete.id.uuidString, "--catalog", catalog, "--json"])
            #expect(byID.stdout == byName.stdout)

            let human = try valkyrie(["show", sets.failed.name, "--catalog", catalog])
            #expect(human.stdoutText.contains("status    failed") && human.stdoutText.contains("error     pg_dump failed"))

            let missing = try valkyrie(["show", "20990101T000000Z_nope", "--catalog", catalog])
            #expect(missing.status == 2)
            #expect(missing.stderrText.split(separator: "\n").count == 1)
            #expect(missing.stderrText.contains("no set 20990101T000000Z_nope") && missing.stderrText.contains(catalog))
        }
    }

    @Test func logFiltersByTypeSetAndTime() throws {
        try withHistory { dir, catalog, sets in
            struct Log: Decodable {
                struct Event: Decodable { let seq: Int64; let type: String; let set: UUID?; let known: Bool; let hash: String }
                let events: [Event]
            }
            func log(_ arguments: [String]) throws -> [Log.Event] {
                let result = try valkyrie(["log", "--catalog", catalog, "--json"] + arguments)
                #expect(result.status == 0, "\(result.stderrText)")
                return try JSONFormat.decoder().decode(Log.self, from: result.stdout).events
            }
            let all = try log([])
            #expect(all.map(\.seq) == Array(1...Int64(all.count)))
            #expect(all.contains { $0.type == "future.audit" && !$0.known })
            #expect(try log(["--type", "backup.completed"]).count == 3)
            let ofSet = try log(["--set", sets.complete.name])
            #expect(!ofSet.isEmpty && ofSet.allSatisfy { $0.set == sets.complete.id })
            #expect(try log(["--since", "2099-01-01"]).isEmpty)
            #expect(try log(["--limit", "2"]).map(\.seq) == all.suffix(2).map(\.seq))

            let human = try valkyrie(["log", "--catalog", catalog, "--set", sets.complete.name])
            #expect(human.stdoutText.contains("future.audit (unknown v3)"))
            #expect(human.stdoutText.contains(sets.complete.name))

            let badTime = try valkyrie(["log", "--catalog", catalog, "--since", "last tuesday"])
            #expect(badTime.status == 2 && badTime.stderrText.contains("--since"))
            let badSet = try valkyrie(["log", "--catalog", catalog, "--set", "nope"])
            #expect(badSet.status == 2)
        }
    }

    @Test func verifyNamesTheFirstRewrittenEvent() throws {
        try withHistory { dir, catalog, sets in
            let clean = try valkyrie(["catalog", "verify", "--catalog", catalog, "--json"])
            #expect(clean.status == 0, "\(clean.stdoutText)\(clean.stderrText)")
            #expect(clean.stdoutText.contains(#""ok" : true"#) && clean.stdoutText.contains(#""defensive" : true"#))

            // Rewrite one payload inside the file itself, bypassing SQLite and its triggers.
            let marked = try #require(try Catalog.open(at: catalog).events().first { $0.payloadJSON.compactText.contains("MARKER-0001") })
            var bytes = try Data(contentsOf: URL(fileURLWithPath: catalog))
            let marker = Data("MARKER-0001".utf8)
            var found = 0
            while let range = bytes.range(of: marker) { bytes.replaceSubrange(range, with: Data("MARKER-9999".utf8)); found += 1 }
            #expect(found >= 1)
            try bytes.write(to: URL(fileURLWithPath: catalog))

            let human = try valkyrie(["catalog", "verify", "--catalog", catalog])
            #expect(human.status == 1)
            #expect(human.stdoutText.contains("first bad event \(marked.seq)"), "\(human.stdoutText)")
            let json = try valkyrie(["catalog", "verify", "--catalog", catalog, "--json"])
            #expect(json.status == 1 && json.stdoutText.contains(#""firstBadSeq" : \#(marked.seq)"#))
        }
    }

    @Test func rebuildReplaysTheProjections() throws {
        try withHistory { dir, catalog, sets in
            let before = try valkyrie(["sets", "--catalog", catalog, "--json"])
            let rebuild = try valkyrie(["catalog", "rebuild", "--catalog", catalog, "--json"])
            #expect(rebuild.status == 0, "\(rebuild.stderrText)")
            #expect(rebuild.stdoutText.contains(#""sets" : 5"#) && rebuild.stdoutText.contains(#""contentIndexes" : "kept""#))
            #expect(try valkyrie(["sets", "--catalog", catalog, "--json"]).stdout == before.stdout)
            let human = try valkyrie(["catalog", "rebuild", "--catalog", catalog])
            #expect(human.status == 0 && human.stdoutText.hasPrefix("rebuilt \(catalog) from "))
        }
    }

    @Test func catalogPathComesFromFlagThenEnvironmentThenConfig() throws {
        try withDirectory { dir in
            var paths: [String: String] = [:]
            for source in ["flag", "env", "config"] {
                let path = dir + "/\(source).db"
                let catalog = try Catalog.open(at: path, mode: .create)
                _ = try completedSet(catalog, host: source, minutes: 0)
                paths[source] = path
            }
            let config = dir + "/valkyrie.yaml"
            try Data("catalog: \(paths["config"]!)\n".utf8).write(to: URL(fileURLWithPath: config))
            func host(_ arguments: [String], _ environment: [String: String]) throws -> String? {
                let result = try valkyrie(["sets", "--json"] + arguments, environment: environment)
                #expect(result.status == 0, "\(result.stdoutText)")
                return try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any] == nil ? nil
                    : (try JSONFormat.decoder().decode([String: [SetRecord]].self, from: result.stdout))["sets"]?.first?.host
            }
            let both = ["VALKYRIE_CATALOG": paths["env"]!, "VALKYRIE_CONFIG": config]
            #expect(try host(["--catalog", paths["flag"]!], both) == "flag")
            #expect(try host([], both) == "env")
            #expect(try host([], ["VALKYRIE_CONFIG": config]) == "config")

            let empty = dir + "/empty.yaml"
            try Data("repository: /srv/none\n".utf8).write(to: URL(fileURLWithPath: empty))
            let fallback = try valkyrie(["sets"], environment: ["VALKYRIE_CONFIG": empty])
            if !FileManager.default.fileExists(atPath: "/var/lib/valkyrie/catalog.db") {
                #expect(fallback.status == 2 && fallback.stderrText.contains("/var/lib/valkyrie"))
            }
        }
    }

    /// The configuration is read once per process, starting while the arguments are parsed: the file `--config`
    /// names (either spelling) still wins, and a missing or broken named file still stops the command (exit 2).
    @Test func namedConfigurationWinsAndItsErrorsStillStopTheCommand() throws {
        try withDirectory { dir in
            var configs: [String: String] = [:]
            for source in ["flag", "env"] {
                let path = dir + "/\(source).db"
                _ = try completedSet(try Catalog.open(at: path, mode: .create), host: source, minutes: 0)
                configs[source] = dir + "/\(source).yaml"
                try Data("catalog: \(path)\n".utf8).write(to: URL(fileURLWithPath: configs[source]!))
            }
            let environment = ["VALKYRIE_CONFIG": configs["env"]!]
            for arguments in [["--config", configs["flag"]!], ["--config=\(configs["flag"]!)"], []] {
                let result = try valkyrie(["sets", "--json"] + arguments, environment: environment)
                #expect(result.status == 0, "\(arguments): \(result.stderrText)")
                let sets = try JSONFormat.decoder().decode([String: [SetRecord]].self, from: result.stdout)["sets"]
                #expect(sets?.first?.host == (arguments.isEmpty ? "env" : "flag"), "\(arguments)")
            }
            let missing = try valkyrie(["sets", "--config", dir + "/none.yaml"], environment: environment)
            #expect(missing.status == 2 && missing.stderrText.contains("none.yaml") && missing.stderrText.contains("does not exist"))
            let broken = dir + "/broken.yaml"
            try Data("catalog: [1, 2]\n".utf8).write(to: URL(fileURLWithPath: broken))
            let invalid = try valkyrie(["sets", "--config", broken])
            #expect(invalid.status == 2 && invalid.stderrText.contains("broken.yaml") && invalid.stderrText.contains("not valid"))
        }
    }

    @Test func badCatalogFilesAreRefusedUntouched() throws {
        try withDirectory { dir in
            func filled(_ name: String) throws -> String {
                let path = dir + "/\(name).db"
                let catalog = try Catalog.open(at: path, mode: .create)
                for minutes in 0..<30 { _ = try completedSet(catalog, host: "vh1", minutes: Double(minutes)) }
                return path
            }
            var cases: [(String, String)] = []
            let text = dir + "/notes.txt"
            try Data("not a catalog\n".utf8).write(to: URL(fileURLWithPath: text))
            cases.append((text, "not a SQLite database"))
            let truncated = try filled("truncated")
            let whole = try Data(contentsOf: URL(fileURLWithPath: truncated))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
            cases.append((truncated, "truncated"))
            let corrupted = try filled("corrupted")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: corrupted))
            for index in 4096..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31) }
            try bytes.write(to: URL(fileURLWithPath: corrupted))
            cases.append((corrupted, "damaged"))
            let readOnly = try filled("readonly")
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: readOnly)
            cases.append((readOnly, "read-only"))
            cases.append((dir + "/missing/catalog.db", "does not exist"))

            for (path, words) in cases {
                let before = FileManager.default.contents(atPath: path)
                let result = try valkyrie(["sets", "--catalog", path])
                #expect(result.status == 2, "\(path): \(result.stderrText)")
                let lines = result.stderrText.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].hasPrefix("valkyrie: ") && lines[0].contains(path) && lines[0].contains(words),
                        "\(result.stderrText)")
                let json = try valkyrie(["log", "--catalog", path, "--json"])
                #expect(json.status == 2 && json.stdoutText.contains(#""exitCode":2"#))
                #expect(FileManager.default.contents(atPath: path) == before, "\(path) changed")
            }
        }
    }

    // MARK: - fixtures

    struct Sets { let complete, partial, failed, running, otherHost: SetRecord }

    /// A catalog of five sets (complete, partial, failed, running, and one of another host), an export, a
    /// restore, an event of an unknown type and a marked payload; closed before `body` runs the binary.
    private func withHistory(_ body: (String, String, Sets) throws -> Void) throws {
        try withDirectory { dir in
            let path = dir + "/catalog.db"
            let sets: Sets = try {
                let catalog = try Catalog.open(at: path, mode: .create, origin: EventOrigin(host: "vh1", uid: 0, user: "root"))
                let complete = try completedSet(catalog, host: "vh1", minutes: 0, items: ["postgres", "etc"])
                try catalog.append(ExportRecorded(set: complete.id, export: "vault-keys", recipients: ["FPR"], vaults: ["v1"],
                                                  digest: "e", size: 10))
                try catalog.append(FileRestored(set: complete.id, path: "/etc/vaulthalla/config.yaml", target: "/tmp/x",
                                                size: 3, digest: "f"))
                try catalog.append([try EventDraft(type: "future.audit", version: 3, payload: Data(#"{"by":"newer"}"#.utf8),
                                                   set: complete.id, occurredAt: Self.start)])
                try catalog.append(VerifyCompleted(checkedPacks: 3, problems: ["MARKER-0001"]))
                let partial = try completedSet(catalog, host: "vh1", minutes: 60, warnings: ["one file changed during capture"])
                let failed = try catalog.startSet(host: "vh1", startedAt: Self.start.addingTimeInterval(7200),
                                                  valkyrieVersion: "0.1.0", items: ["postgres"])
                try catalog.append(BackupFailed(set: failed.id, error: "pg_dump failed"))
                let running = try catalog.startSet(host: "vh1", startedAt: Self.start.addingTimeInterval(9000),
                                                   valkyrieVersion: "0.1.0", items: ["postgres"])
                let other = try completedSet(catalog, host: "vh2", minutes: 30)
                return Sets(complete: complete, partial: partial, failed: try catalog.requireSet(failed.name),
                            running: running, otherHost: other)
            }()
            try body(dir, path, sets)
        }
    }

    private func completedSet(_ catalog: Catalog, host: String, minutes: Double, items: [String] = ["etc"],
                              warnings: [String] = []) throws -> SetRecord {
        let set = try catalog.startSet(host: host, startedAt: Self.start.addingTimeInterval(minutes * 60),
                                       valkyrieVersion: "0.1.0", items: items)
        for item in items {
            try catalog.append(ItemCaptured(set: set.id, item: item, root: "t-\(item)", digest: "d", size: 100, files: 1))
        }
        try catalog.append(BackupCompleted(set: set.id, warnings: warnings))
        return try catalog.requireSet(set.name)
    }

    private func withDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    /// Runs the built `valkyrie` with a clean environment: no catalog or config settings but those given.
    private func valkyrie(_ arguments: [String], environment: [String: String] = [:]) throws -> Subprocess.Result {
        var env = ProcessInfo.processInfo.environment
        env["VALKYRIE_CATALOG"] = nil
        env["VALKYRIE_CONFIG"] = nil
        env.merge(environment) { _, new in new }
        return try Subprocess.run(try Self.binary(), arguments, environment: env)
    }

    static func binary() throws -> String {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for directory in candidates {
            let path = directory.appendingPathComponent("valkyrie").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw OperatorError.failed("the valkyrie binary is not built next to the tests", remedy: "run swift build --build-tests")
    }
}
