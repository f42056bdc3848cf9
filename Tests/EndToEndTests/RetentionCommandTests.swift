import Catalog
import Foundation
import Support
import Testing

/// `valkyrie forget | prune | verify` through the built binary: refusals, the config's retention rules, and
/// the events each run leaves.
@Suite struct RetentionCommandTests {
    /// The built `valkyrie`, or a tool built beside it.
    static func binary(_ name: String) -> String {
        let valkyrie = RepositoryCommandTests.valkyrie
        return name == "valkyrie" ? valkyrie : URL(fileURLWithPath: valkyrie).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// A folder with a repository holding one set (written by repository-bench) and a catalog.
    final class Place {
        let path = NSTemporaryDirectory() + "valkyrie-e2e-retention-\(UUID().uuidString.prefix(8))"
        var repo: String { path + "/repo" }
        var catalog: String { path + "/catalog.db" }
        init() throws {
            try FileManager.default.createDirectory(atPath: path + "/src", withIntermediateDirectories: true)
            try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }).write(to: URL(fileURLWithPath: path + "/src/file"))
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static let password = "retention e2e passphrase"

    func run(_ arguments: [String], _ place: Place, config: String? = nil) throws -> Subprocess.Result {
        var environment = ["PATH": "/usr/bin:/bin", "VALKYRIE_PASSWORD": Self.password]
        environment["VALKYRIE_CONFIG"] = config
        return try Subprocess.run(Self.binary("valkyrie"), arguments + ["--repo", place.repo, "--catalog", place.catalog],
                                  environment: environment)
    }

    func prepare(_ place: Place) throws -> Catalog {
        let written = try Subprocess.run(Self.binary("repository-bench"), ["write", place.repo, place.path + "/src"],
                                         environment: ["VALKYRIE_PASSWORD": Self.password])
        #expect(written.status == 0, "\(written.stderrText)")
        return try Catalog.open(at: place.catalog, mode: .create)
    }

    @Test("forget without a keep rule, --all with one, a bad span or a zero count exit 2; the catalog is untouched")
    func forgetRefusals() throws {
        let place = try Place()
        let catalog = try prepare(place)
        let set = try catalog.startSet(host: "vh1", valkyrieVersion: "test", items: [])
        try catalog.append(BackupCompleted(set: set.id))
        for flags in [[], ["--all", "--keep-last", "1"], ["--keep-within", "7x"], ["--keep-last", "0"], ["--dry-run", "--prune", "--keep-last", "1"]] {
            let result = try run(["forget"] + flags, place)
            #expect(result.status == 2, "\(flags): \(result.stderrText)")
        }
        #expect(try run(["forget"], place).stderrText.contains("--all"))
        // Bad retention settings in the config are bad input too, naming the setting.
        let config = place.path + "/valkyrie.yaml"
        for (yaml, setting) in [("retention:\n  keep_within: soon\n", "retention.keep_within"), ("retention:\n  keep_last: 0\n", "retention.keep_last")] {
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
            let result = try run(["forget"], place, config: config)
            #expect(result.status == 2 && result.stderrText.contains(setting), "\(yaml): \(result.stderrText)")
        }
        #expect(try catalog.sets().count == 1)
        #expect(try catalog.events(EventFilter(type: .setForgotten)).isEmpty)
    }

    @Test("forget takes the config's retention rules; --prune prunes; both are events, and the forgotten set leaves sets but not the log")
    func forgetWithConfigThenPrune() throws {
        let place = try Place()
        let catalog = try prepare(place)
        var sets: [SetRecord] = []
        for i in 0..<3 {
            let set = try catalog.startSet(host: "vh1", startedAt: Date().addingTimeInterval(Double(i - 3) * 60), valkyrieVersion: "test", items: [])
            try catalog.append(BackupCompleted(set: set.id))
            sets.append(set)
        }
        let config = place.path + "/valkyrie.yaml"
        try Data("retention:\n  keep_last: 2\n  prune_grace: 0s\n".utf8).write(to: URL(fileURLWithPath: config))
        let dry = try run(["forget", "--dry-run"], place, config: config)
        #expect(dry.status == 0, "\(dry.stderrText)")
        #expect(dry.stdoutText.contains("would forget") && dry.stdoutText.contains("keep-last 2"))
        #expect(try catalog.sets().count == 3)

        let done = try run(["forget", "--prune", "--json"], place, config: config)
        #expect(done.status == 0, "\(done.stderrText)")
        struct Result: Decodable {
            struct Forget: Decodable { struct Entry: Decodable { let set: UUID; let keep: Bool }; let sets: [Entry] }
            struct Prune: Decodable { let reclaimedBytes: Int64; let snapshots: Int }
            let forget: Forget
            let prune: Prune?
        }
        let result = try JSONFormat.decoder().decode(Result.self, from: done.stdout)
        #expect(result.forget.sets.filter { !$0.keep }.map(\.set) == [sets[0].id])
        #expect(result.prune?.snapshots == 1, "the bench's set is no set of this catalog and stays")
        #expect(try catalog.sets().map(\.id) == [sets[1].id, sets[2].id])
        #expect(try catalog.events(EventFilter(set: sets[0].id)).last?.type == .setForgotten)
        #expect(try catalog.events(EventFilter(type: .pruneCompleted)).count == 1)
        let listing = try Subprocess.run(Self.binary("valkyrie"), ["sets", "--catalog", place.catalog], environment: ["PATH": "/usr/bin:/bin"])
        #expect(listing.status == 0, "\(listing.stderrText)")
        #expect(!listing.stdoutText.contains(sets[0].name) && listing.stdoutText.contains(sets[1].name))
        #expect(listing.stdoutText.contains("DATA READ"))
    }

    @Test("prune on a repository with a damaged index exits 1 and points to verify; verify records its runs as events")
    func pruneRefusesDamagedIndex() throws {
        let place = try Place()
        let catalog = try prepare(place)
        let verified = try run(["verify", "--read-data=50"], place)
        #expect(verified.status == 0, "\(verified.stderrText)")
        #expect(try catalog.events(EventFilter(type: .verifyCompleted)).count == 1)

        let indexFolder = place.repo + "/index"
        let index = try #require(try FileManager.default.contentsOfDirectory(atPath: indexFolder).first { !$0.hasPrefix(".") })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(indexFolder)/\(index)"))
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: "\(indexFolder)/\(index)"))
        let pruned = try run(["prune", "--grace", "0s"], place)
        #expect(pruned.status == 1)
        #expect(pruned.stderrText.contains("index/\(index)") && pruned.stderrText.contains("valkyrie verify"), "\(pruned.stderrText)")
        #expect(try catalog.events(EventFilter(type: .pruneCompleted)).isEmpty)
        #expect(try run(["prune", "--grace", "soon"], place).status == 2)
    }
}
