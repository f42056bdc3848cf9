import Catalog
import Foundation
import Support
import Synchronization
import Testing

/// The catalog kept in the repository: `catalog rebuild --from-repository` after deleting the catalog, `catalog
/// verify` against a rewritten catalog and a rolled-back repository, and two hosts on one repository. Driven
/// through the binary on a tiny lab host of this suite's own.
@Suite(.serialized) struct ChainCommandTests {
    typealias Setup = BackupCommandTests.Setup
    static let shared = Result { try BackupCommandTests.LabHost() }
    static let testCount = 3
    static let finished = Mutex(0)

    static func done() {
        let all = finished.withLock { count in
            count += 1
            return count == testCount
        }
        if all, let host = try? shared.get() { host.destroy() }
    }

    @Test("backups, a restore and a drill; the catalog deleted; rebuilt from the repository it gives the same sets, log, drills, find and indexes")
    func rebuildAfterLosingTheCatalog() throws {
        defer { Self.done() }
        let setup = try Setup(labHost: try Self.shared.get())
        for _ in 0..<2 {
            let backup = try setup.run(["backup"])
            #expect(backup.status == 0, "\(backup.stdoutText)\(backup.stderrText)")
        }
        let set = try #require(try setup.json(try setup.run(["sets", "--json"]))["sets"] as? [[String: Any]]).last?["name"] as? String
        let restored = try setup.run(["restore", "\(try #require(set)):/etc/vaulthalla/config.yaml", "--to", "\(setup.path)/out"])
        #expect(restored.status == 0, "\(restored.stderrText)")
        let drill = try setup.run(["drill"])
        #expect(drill.status == 0 || drill.status == 1, "\(drill.stderrText)")
        let before = try snapshot(setup)
        #expect((before["drills"] ?? "").contains("\"checks\""))
        let verified = try setup.run(["catalog", "verify", "--json"])
        #expect(verified.status == 0, "\(verified.stdoutText)\(verified.stderrText)")
        #expect(verified.stdoutText.contains(#""state" : "same""#))

        let catalog = "\(setup.path)/catalog.db"
        for suffix in ["", "-wal", "-shm", ".chain-lock"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        let rebuilt = try setup.run(["catalog", "rebuild", "--from-repository", "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.stdoutText)\(rebuilt.stderrText)")
        let after = try snapshot(setup)
        for key in before.keys.sorted() { #expect(after[key] == before[key], "\(key) differs after the rebuild") }
        #expect((after["file_index"] ?? "").split(separator: "\n").count > 10 && (after["vault_index"] ?? "").count > 0)
        let again = try setup.run(["catalog", "verify"])
        #expect(again.status == 0 && again.stdoutText.contains("the same chain"), "\(again.stdoutText)\(again.stderrText)")

        // Into a catalog with events: refused unless --force, which keeps the old file aside.
        let refused = try setup.run(["catalog", "rebuild", "--from-repository"])
        #expect(refused.status == 2 && refused.stderrText.contains("already has events") && refused.stderrText.contains("--force"))
        let forced = try setup.run(["catalog", "rebuild", "--from-repository", "--force"])
        #expect(forced.status == 0, "\(forced.stderrText)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: setup.path).filter { $0.hasPrefix("catalog.db.replaced-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(aside.count == 1)
        #expect(try snapshot(setup) == before)
        // A damaged catalog: refused as it is, replaced with --force (never opened).
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: catalog))
        let damaged = try setup.run(["catalog", "rebuild", "--from-repository"])
        #expect(damaged.status == 2, "\(damaged.stderrText)")
        let replaced = try setup.run(["catalog", "rebuild", "--from-repository", "--force"])
        #expect(replaced.status == 0, "\(replaced.stderrText)")
        #expect(try snapshot(setup) == before)
        // The rebuilt catalog continues the chain: the next backup chains on and reaches the repository.
        let next = try setup.run(["backup"])
        #expect(next.status == 0, "\(next.stderrText)")
        #expect(try setup.run(["catalog", "verify"]).status == 0)
        // A forgotten set (its snapshot gone) stays forgotten, in the log, and out of sets and find.
        let forget = try setup.run(["forget", "--keep-last", "2"])
        #expect(forget.status == 0, "\(forget.stdoutText)\(forget.stderrText)")
        let kept = try snapshot(setup)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        let afterForget = try setup.run(["catalog", "rebuild", "--from-repository"])
        #expect(afterForget.status == 0, "\(afterForget.stderrText)")
        let rebuiltKept = try snapshot(setup)
        for key in ["sets", "log", "drills"] { #expect(rebuiltKept[key] == kept[key], "\(key) differs after forget and rebuild") }
        // The same entries in the same sets. The forgotten set's snapshot is gone, so the rebuilt index never saw
        // it: a row's range starts at the oldest set still there, and its node names that set's tree rather than
        // the forgotten one's (both hold the same content), which may also change the listing's order.
        func found(_ text: String?) throws -> [String] {
            let json = try JSONSerialization.jsonObject(with: Data((text ?? "").utf8)) as? [String: Any]
            return try (json?["files"] as? [[String: Any]] ?? []).map { match in
                let file = match["file"] as? [String: Any] ?? [:]
                var fields = file["entry"] as? [String: Any] ?? [:]
                fields["node"] = nil
                let entry = try JSONSerialization.data(withJSONObject: fields, options: .sortedKeys)
                let sets = (match["sets"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                return String(decoding: entry, as: UTF8.self) + " in " + sets.joined(separator: ",")
            }.sorted()
        }
        for key in ["find", "findVault"] {
            let (after, before) = (try found(rebuiltKept[key]), try found(kept[key]))
            #expect(!before.isEmpty && after == before,
                    "\(key) differs after forget and rebuild: \(Set(after).symmetricDifference(before).sorted().prefix(4)) (\(after.count) vs \(before.count))")
        }
    }

    @Test("catalog verify: a catalog rewritten and re-chained is caught; an older head in the repository is a possible rollback; a pending upload is caught up")
    func verifyAgainstTheRepository() throws {
        defer { Self.done() }
        let setup = try Setup(labHost: try Self.shared.get())
        let backup = try setup.run(["backup"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let headFile = try headObject(setup)
        let older = try Data(contentsOf: URL(fileURLWithPath: headFile))
        let set = try #require(try setup.json(try setup.run(["sets", "--json"]))["sets"] as? [[String: Any]]).last?["name"] as? String
        let restore = ["restore", "\(try #require(set)):/etc/vaulthalla/config.yaml", "--to", "\(setup.path)/out", "--overwrite"]
        #expect(try setup.run(restore).status == 0)
        #expect(try setup.run(["catalog", "verify"]).status == 0)

        // A rollback: the repository's head put back to an older copy.
        try older.write(to: URL(fileURLWithPath: headFile))
        let rolledBack = try setup.run(["catalog", "verify", "--json"])
        #expect(rolledBack.status == 1, "\(rolledBack.stdoutText)")
        #expect(rolledBack.stdoutText.contains(#""state" : "rollback""#) && rolledBack.stdoutText.contains("possible rollback"))
        let human = try setup.run(["catalog", "verify"])
        #expect(human.status == 1 && human.stdoutText.contains("FAILED") && human.stdoutText.contains("possible rollback"))
        // The next recording command does its work but will not paper over the rollback.
        let refused = try setup.run(restore)
        #expect(refused.status == 1 && refused.stderrText.contains("possible rollback") && refused.stderrText.contains("--repair"),
                "\(refused.stderrText)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: headFile)) == older)
        let repaired = try setup.run(["catalog", "verify", "--repair"])
        #expect(repaired.status == 0, "\(repaired.stdoutText)\(repaired.stderrText)")

        // An interrupted command: an event in the catalog that never reached the repository (exit 3), which
        // the next command writes.
        let catalog = try Catalog.open(at: "\(setup.path)/catalog.db")
        try catalog.append(VerifyCompleted(checkedPacks: 0, problems: []))
        let pending = try setup.run(["catalog", "verify", "--json"])
        #expect(pending.status == 3 && pending.stdoutText.contains(#""state" : "pending""#), "\(pending.stdoutText)")
        #expect(try setup.run(restore).status == 0)
        #expect(try setup.run(["catalog", "verify"]).status == 0)

        // Rows rewritten with the triggers dropped, every hash recomputed, the triggers put back: the catalog
        // alone verifies, the repository's copy does not.
        let rewritten = try Subprocess.run("/usr/bin/env", ["python3", "-c", Self.rechain, "\(setup.path)/catalog.db", "3"])
        #expect(rewritten.status == 0, "\(rewritten.stderrText)")
        let caught = try setup.run(["catalog", "verify", "--json"])
        #expect(caught.status == 1, "\(caught.stdoutText)")
        #expect(caught.stdoutText.contains(#""ok" : true"#) && caught.stdoutText.contains(#""state" : "diverged""#))
        #expect(caught.stdoutText.contains("event 3 differs"), "\(caught.stdoutText)")
        let stuck = try setup.run(restore)
        #expect(stuck.status == 1 && stuck.stderrText.contains("rewritten"), "\(stuck.stderrText)")
        let notRepaired = try setup.run(["catalog", "verify", "--repair"])
        #expect(notRepaired.status == 1 && notRepaired.stderrText.contains("rewritten"), "\(notRepaired.stderrText)")
    }

    @Test("two hosts on one repository each keep their chain; a rebuild shows both")
    func twoHostsOneRepository() throws {
        defer { Self.done() }
        let host = try Self.shared.get()
        let a = try Setup(labHost: host)
        let b = try Setup(["host.name": "e2e-host-b"], labHost: host)
        // b's config points at a's repository (Setup made b one of its own first).
        let config = try String(contentsOfFile: b.config, encoding: .utf8)
            .replacingOccurrences(of: "repository: \"\(b.path)/repo\"", with: "repository: \"\(a.path)/repo\"")
        try Data(config.utf8).write(to: URL(fileURLWithPath: b.config))
        for setup in [a, b, a] {
            let backup = try setup.run(["backup"])
            #expect(backup.status == 0, "\(backup.stderrText)")
        }
        let chains = try FileManager.default.contentsOfDirectory(atPath: "\(a.path)/repo/chains")
        #expect(chains.count == 2)
        for setup in [a, b] { #expect(try setup.run(["catalog", "verify"]).status == 0) }

        let fresh = "\(a.path)/fresh.db"
        let rebuilt = try a.run(["catalog", "rebuild", "--from-repository", "--catalog", fresh, "--chain", "e2e-host", "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderrText)")
        #expect(rebuilt.stdoutText.contains("e2e-host-b"))
        func names(_ arguments: [String], _ setup: Setup) throws -> [String] {
            let listed = try setup.json(try setup.run(["sets", "--json"] + arguments))["sets"] as? [[String: Any]] ?? []
            return listed.compactMap { $0["name"] as? String }.sorted()
        }
        #expect(try names(["--catalog", fresh], a) == (try names([], a) + names([], b)).sorted())
        #expect(try names(["--catalog", fresh, "--host", "e2e-host-b"], a).count == 1)
        #expect(try a.run(["log", "--json", "--catalog", fresh]).stdout == a.run(["log", "--json"]).stdout)
        let verified = try a.run(["catalog", "verify", "--catalog", fresh])
        #expect(verified.status == 0 && verified.stdoutText.contains("e2e-host-b"), "\(verified.stdoutText)")
        // Host b's catalog, rebuilt on a new machine, continues b's chain.
        let other = "\(a.path)/other.db"
        let ofB = try b.run(["catalog", "rebuild", "--from-repository", "--catalog", other, "--chain", "e2e-host-b"])
        #expect(ofB.status == 0, "\(ofB.stderrText)")
        #expect(try b.run(["log", "--json", "--catalog", other]).stdout == b.run(["log", "--json"]).stdout)
        let ambiguous = try b.run(["catalog", "rebuild", "--from-repository", "--catalog", "\(a.path)/x.db"])
        #expect(ambiguous.status == 2 && ambiguous.stderrText.contains("--chain"), "\(ambiguous.stderrText)")
    }

    /// What the operator sees, and the index rows behind it.
    private func snapshot(_ setup: Setup) throws -> [String: String] {
        var out: [String: String] = [:]
        for (key, arguments) in ["sets": ["sets", "--json"], "log": ["log", "--json"], "drills": ["drills", "--json"],
                                 "find": ["find", "*config*", "--json"], "findVault": ["find", "/*", "--json"]] {
            let result = try setup.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            out[key] = result.stdoutText
        }
        for table in ["file_index", "vault_index", "indexed_sets"] {
            let rows = try Subprocess.run("/usr/bin/sqlite3", ["\(setup.path)/catalog.db", "SELECT * FROM \(table)"])
            #expect(rows.status == 0, "\(rows.stderrText)")
            out[table] = rows.stdoutText.split(separator: "\n").sorted().joined(separator: "\n")
        }
        return out
    }

    /// The only chain head in the setup's repository.
    private func headObject(_ setup: Setup) throws -> String {
        let chains = try FileManager.default.contentsOfDirectory(atPath: "\(setup.path)/repo/chains")
        #expect(chains.count == 1)
        return "\(setup.path)/repo/chains/\(try #require(chains.first))/head"
    }

    /// Rewrites event N's payload with the triggers dropped, recomputes every hash from N on
    /// (catalog/canonical-encoding.md) and puts the triggers back: what an attacker with the file would do.
    static let rechain = #"""
    import hashlib, json, sqlite3, sys
    db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
    triggers = db.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'events'").fetchall()
    for name, _ in triggers: db.execute(f"DROP TRIGGER {name}")
    payload = json.loads(db.execute("SELECT payload FROM events WHERE seq = ?", (n,)).fetchone()[0])
    payload["forged"] = True
    db.execute("UPDATE events SET payload = ? WHERE seq = ?", (json.dumps(payload, sort_keys=True, separators=(",", ":")), n))
    prev = db.execute("SELECT hash FROM events WHERE seq = ?", (n - 1,)).fetchone()[0] if n > 1 else bytes(32)
    rows = db.execute("SELECT seq, uuid, type, version, occurred_at, recorded_at, host, actor_uid, actor_name, set_id, payload FROM events WHERE seq >= ? ORDER BY seq", (n,)).fetchall()
    for row in rows:
        fields = ["valkyrie-event-1"] + [str(v) if v is not None else "" for v in row]
        data = b"".join(len(f.encode()).to_bytes(4, "big") + f.encode() for f in fields)
        digest = hashlib.sha256(prev + data).digest()
        db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row[0]))
        prev = digest
    for _, sql in triggers: db.execute(sql)
    db.commit()
    """#
}
