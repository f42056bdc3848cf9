import Foundation
import Support
import Synchronization
import Testing

/// find, history, ls, diff, restore (raw, vault, full), keys extract and restore-plan against real sets: a tiny lab
/// host backed up, changed for a day, and backed up again. One host and repository for the suite (tests only read
/// them, bar the events they append), destroyed after the last test.
@Suite(.serialized) struct RestoreCommandTests {
    static let environment = ProcessInfo.processInfo.environment
    static let shared = Result { try Fixture() }
    static let testCount = 9
    static let finished = Mutex(0)

    static func done() {
        let all = finished.withLock { count in
            count += 1
            return count == testCount
        }
        if all, let fixture = try? shared.get() { fixture.host.destroy() }
    }

    final class Fixture: Sendable {
        let host: BackupCommandTests.LabHost
        nonisolated(unsafe) let setup: BackupCommandTests.Setup
        /// Oldest first.
        let sets: [String]

        init() throws {
            host = try BackupCommandTests.LabHost()
            do {
                setup = try BackupCommandTests.Setup(labHost: host)
                let first = try setup.run(["backup"])
                guard first.status == 0 else { throw OperatorError.failed("first backup: \(first.stdoutText)\(first.stderrText)") }
                let day = try Subprocess.run("\(BackupCommandTests.bin)/vaulthalla-lab", ["mutate", "--root", host.root, "--day", "1"])
                guard day.status == 0 else { throw OperatorError.failed("vaulthalla-lab mutate: \(day.stderrText)") }
                let second = try setup.run(["backup"])
                guard second.status == 0 else { throw OperatorError.failed("second backup: \(second.stdoutText)\(second.stderrText)") }
                let report = try JSONSerialization.jsonObject(with: try setup.run(["sets", "--json"]).stdout) as? [String: Any]
                let listed = report?["sets"] as? [[String: Any]] ?? []
                sets = listed.compactMap { $0["name"] as? String }
                guard sets.count == 2 else { throw OperatorError.failed("expected two sets, got \(sets)") }
            } catch {
                host.destroy()
                throw error
            }
        }

        func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Subprocess.Result {
            try Subprocess.run(RepositoryCommandTests.valkyrie, arguments, environment: setup.environment.merging(extra) { $1 })
        }

        func json(_ arguments: [String]) throws -> Any {
            let result = try run(arguments + ["--json"])
            #expect(result.status == 0, "\(arguments): \(result.stdoutText)\(result.stderrText)")
            return try JSONSerialization.jsonObject(with: result.stdout)
        }

        /// A scratch folder under the host's, removed by the caller's defer.
        func scratch() throws -> String {
            let path = "\(host.folder)/out-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return path
        }

        /// Every vault file of a set: (vault, logical path, iv).
        func vaultFiles(_ set: String) throws -> [(vault: String, path: String, iv: String)] {
            let found = try #require(try json(["find", "*", "--set", set]) as? [String: Any])
            return (found["vaultFiles"] as? [[String: Any]] ?? []).compactMap {
                guard let entry = ($0["file"] as? [String: Any])?["entry"] as? [String: Any], entry["kind"] as? String == "file" else { return nil }
                return (entry["vault"] as! String, entry["path"] as! String, entry["iv"] as? String ?? "")
            }
        }

        /// SHA-256 and size of a live file's plaintext from the lab's own truth, found by vault name and logical path.
        func truth(vault: String, path: String) throws -> (sha256: String, size: Int)? {
            let env = RestoreCommandTests.environment
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(host.root)/lab/state.json"))) as? [String: Any])
            let database = try #require((state["database"] as? [String: Any])?["name"] as? String)
            let query = try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/psql", [
                "-h", env["VALKYRIE_TEST_PGHOST"]!, "-p", env["VALKYRIE_TEST_PGPORT"]!, "-U", env["VALKYRIE_TEST_PGUSER"] ?? "postgres",
                "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-v", "v=\(vault)", "-v", "p=\(path)"],
                input: Data("SELECT e.id FROM fs_entry e JOIN vault v ON v.id = e.vault_id WHERE v.name = :'v' AND e.path = :'p';\n".utf8))
            guard query.status == 0, let id = query.stdoutText.split(separator: "\n").first else { return nil }
            let manifest = try String(contentsOfFile: "\(host.root)/lab/manifest.tsv", encoding: .utf8)
            for line in manifest.split(separator: "\n") {
                let fields = line.split(separator: "\t")
                if fields.count == 3, fields[0] == id { return (String(fields[1]), Int(fields[2])!) }
            }
            return nil
        }

        /// Every key version the lab knows, as a plaintext `vh vault keys export` array (for --keys).
        func allKeysExport() throws -> Data {
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(host.root)/lab/state.json"))) as? [String: Any])
            let vaults = try #require(try JSONSerialization.jsonObject(with: try Subprocess.run("\(host.root)/bin/vh", ["vaults", "--json"]).stdout) as? [[String: Any]])
            let names = Dictionary(uniqueKeysWithValues: vaults.map { ($0["id"] as! Int, $0["name"] as! String) })
            let entries: [[String: Any]] = (state["vaultKeys"] as? [[String: Any]] ?? []).compactMap { key in
                guard let id = key["vaultID"] as? Int, let name = names[id] else { return nil }
                return ["key": key["key"]!, "vault_id": id, "vault_name": name, "key_info": Self.keyInfo(version: key["version"] as! Int)]
            }
            return try JSONSerialization.data(withJSONObject: entries)
        }

        static func keyInfo(version: Int) -> [String: Any] {
            ["aad": false, "cipher_impl": "libsodium::crypto_aead_aes256gcm", "created_at": "2026-01-01T00:00:00Z",
             "exported_at": "2026-01-01T00:00:00Z", "exported_by": "test", "files_hashed_with": "libsodium",
             "hardware_accel": "none", "iv_gen": "libsodium::randombytes_buf", "iv_size": 12, "key_size": 32,
             "key_version": version, "sealed_by": "Vaulthalla v1.6.6", "tag_size": 16, "type": "AES-256-GCM"]
        }
    }

    static func sha256(_ path: String) throws -> String {
        let result = try Subprocess.run("sha256sum", [path])
        return String(result.stdoutText.prefix(64))
    }

    static func restores(_ fixture: Fixture, _ set: String) throws -> [[String: Any]] {
        let shown = try #require(try fixture.json(["show", set]) as? [String: Any])
        return shown["restores"] as? [[String: Any]] ?? []
    }

    @Test("find, history, ls and diff answer from the catalog; unknown sets and paths name the nearest")
    func finding() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let (old, new) = (fixture.sets[0], fixture.sets[1])

        let found = try #require(try fixture.json(["find", "config.yaml"]) as? [String: Any])
        let files = try #require(found["files"] as? [[String: Any]])
        let config = try #require(files.first { (($0["file"] as? [String: Any])?["entry"] as? [String: Any])?["path"] as? String == "/etc/vaulthalla/config.yaml" })
        #expect((config["sets"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == [old, new], "one version held by both sets")
        #expect(try fixture.run(["find", "config.yaml"]).stdoutText.contains("(2 sets)"))

        let vaultFiles = try fixture.vaultFiles(new)
        let sample = try #require(vaultFiles.first { $0.path.split(separator: "/").count >= 2 })
        let name = (sample.path as NSString).lastPathComponent
        let byName = try #require(try fixture.json(["find", name, "--vault", sample.vault]) as? [String: Any])
        #expect((byName["files"] as? [Any])?.isEmpty == true)
        #expect((byName["vaultFiles"] as? [[String: Any]])?.contains {
            (($0["file"] as? [String: Any])?["entry"] as? [String: Any])?["path"] as? String == sample.path } == true)
        let since = try fixture.run(["find", "config.yaml", "--since", "2099-01-01"])
        #expect(since.status == 1 && since.stderrText.contains("nothing matches"))

        let history = try #require(try fixture.json(["history", "/etc/vaulthalla/config.yaml"]) as? [[String: Any]])
        #expect(history.count == 1 && (history[0]["sets"] as? [String]) == [old, new])
        let vaultHistory = try #require(try fixture.json(["history", sample.path, "--vault", sample.vault]) as? [[String: Any]])
        #expect(vaultHistory.flatMap { $0["sets"] as? [String] ?? [] }.contains(new))

        let listed = try #require(try fixture.json(["ls", "\(new):/etc/vaulthalla"]) as? [[String: Any]])
        #expect(listed.contains { $0["path"] as? String == "/etc/vaulthalla/config.yaml" && $0["mode"] as? String == "644" })
        let top = try fixture.run(["ls", new])
        #expect(top.status == 0 && top.stdoutText.contains("/postgres/") && top.stdoutText.contains("/keys/"))
        let vaultTop = try #require(try fixture.json(["ls", new, "--vault", sample.vault]) as? [[String: Any]])
        #expect(!vaultTop.isEmpty)

        let diff = try #require(try fixture.json(["diff", old, new]) as? [String: Any])
        let vaults = try #require(diff["vaults"] as? [[String: Any]])
        #expect(vaults.contains { !(($0["added"] as? [String]) ?? []).isEmpty || !(($0["changed"] as? [String]) ?? []).isEmpty },
                "a day of use adds or edits vault files")
        #expect((diff["items"] as? [[String: Any]])?.contains { $0["name"] as? String == "var/lib/vaulthalla" } == true)
        let same = try fixture.run(["diff", new, new])
        #expect(same.status == 0 && same.stdoutText.contains("no differences"))

        let typo = String(new.dropLast())
        let unknownSet = try fixture.run(["ls", typo])
        #expect(unknownSet.status == 2 && unknownSet.stderrText.contains("no set \(typo)") && unknownSet.stderrText.contains("nearest: \(new)"))
        let unknownPath = try fixture.run(["ls", "\(new):/etc/vaulthalla/config.yml"])
        #expect(unknownPath.status == 2 && unknownPath.stderrText.contains("nearest: /etc/vaulthalla/config.yaml"))
        let unknownVault = try fixture.run(["restore", "--vault", "no-such-vault", "--set", new, "/x", "--to", "/tmp"])
        #expect(unknownVault.status == 2 && unknownVault.stderrText.contains("has no vault no-such-vault"))
    }

    @Test("restore SET:PATH: a file and a folder with modes, times and xattrs; dry run writes nothing; exists refused; an event each")
    func rawRestore() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }

        let dry = try fixture.run(["restore", "\(set):/etc/vaulthalla", "--to", out, "--dry-run"])
        #expect(dry.status == 0 && dry.stdoutText.contains("would restore"), "\(dry.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)

        let file = try fixture.run(["restore", "\(set):/etc/vaulthalla/config.yaml", "--to", out])
        #expect(file.status == 0, "\(file.stderrText)")
        let original = "\(fixture.host.root)/etc/vaulthalla/config.yaml", restored = "\(out)/config.yaml"
        #expect(try Self.sha256(restored) == Self.sha256(original))
        let a = try FileManager.default.attributesOfItem(atPath: original), b = try FileManager.default.attributesOfItem(atPath: restored)
        #expect(a[.posixPermissions] as? Int == b[.posixPermissions] as? Int)
        #expect(a[.modificationDate] as? Date == b[.modificationDate] as? Date)
        #expect(a[.ownerAccountID] as? Int == b[.ownerAccountID] as? Int)

        let again = try fixture.run(["restore", "\(set):/etc/vaulthalla/config.yaml", "--to", out])
        #expect(again.status == 2 && again.stderrText.contains("\(restored) exists") && again.stderrText.contains("--overwrite"))
        let overwritten = try fixture.run(["restore", "\(set):/etc/vaulthalla/config.yaml", "--to", out, "--overwrite"])
        #expect(overwritten.status == 0)

        // S3 objects carry their user metadata as xattrs; the folder comes back whole.
        let s3 = try fixture.run(["restore", "\(set):/s3", "--to", out])
        #expect(s3.status == 0, "\(s3.stderrText)")
        let object = try #require(FileManager.default.enumerator(atPath: "\(out)/s3")?.compactMap { $0 as? String }
            .first { !$0.hasPrefix(".") && !$0.contains("/.vaulthalla") && $0.contains("/") && !FileManager.default.fileExists(atPath: "\(out)/s3/\($0)/.") })
        let attributes = try Subprocess.run("getfattr", ["-d", "\(out)/s3/\(object)"])
        #expect(attributes.stdoutText.contains("user.vh-"), "xattrs of \(object): \(attributes.stdoutText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["config.yaml", "s3"], "no staging folder left")

        let events = try Self.restores(fixture, set).filter { $0["kind"] as? String == "file" }
        #expect(events.contains { $0["path"] as? String == "/etc/vaulthalla/config.yaml" && $0["target"] as? String == restored })
        #expect(events.contains { $0["path"] as? String == "/s3" })
    }

    @Test("restore --vault: every vault file decrypted to its lab truth (plaintext bodies, stale and older key versions)")
    func vaultRestore() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let keys = "\(try fixture.scratch())/all-keys.json"
        try fixture.allKeysExport().write(to: URL(fileURLWithPath: keys))
        defer { try? FileManager.default.removeItem(atPath: (keys as NSString).deletingLastPathComponent) }
        var plaintextBodies = 0, stale = 0, olderKeys = 0, checked = 0
        for file in try fixture.vaultFiles(set) {
            guard let truth = try fixture.truth(vault: file.vault, path: file.path) else { continue }
            let out = try fixture.scratch()
            defer { try? FileManager.default.removeItem(atPath: out) }
            var result = try fixture.run(["restore", "--vault", file.vault, "--set", set, file.path, "--to", out, "--json"])
            if result.status != 0 {
                // Each export holds only the key current when taken; older keys come from the operator's file.
                #expect(result.status == 1 || result.status == 2, "\(result.stdoutText)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "nothing left after a refusal")
                result = try fixture.run(["restore", "--vault", file.vault, "--set", set, file.path, "--to", out, "--keys", keys, "--json"])
                olderKeys += 1
            }
            #expect(result.status == 0, "\(file.vault):\(file.path): \(result.stdoutText)\(result.stderrText)")
            guard result.status == 0 else { continue }
            let summary = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
            let target = "\(out)/\((file.path as NSString).lastPathComponent)"
            #expect(summary["target"] as? String == target)
            #expect(try Self.sha256(target) == truth.sha256, "\(file.vault):\(file.path)")
            #expect((try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int) == 0o600)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 1)
            if file.iv.isEmpty && truth.size > 0 { plaintextBodies += 1 }
            if summary["staleRecordedVersion"] as? Bool == true { stale += 1 }
            checked += 1
        }
        #expect(checked > 10)
        #expect(plaintextBodies > 0, "the lab host has a 1.1.0 plaintext body")
        #expect(stale > 0, "the lab host has stale recorded key versions")
        let events = try Self.restores(fixture, set).filter { $0["vault"] != nil && $0["kind"] as? String == "file" }
        #expect(events.count >= checked)
        #expect(olderKeys < checked, "most files open with the set's own export")
    }

    @Test("restore --vault refusals: no key opens the export, an export without the vault, a wrong key (GCM), target not writable")
    func vaultRefusals() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let file = try #require(try fixture.vaultFiles(set).first { !$0.iv.isEmpty })
        let restore = ["restore", "--vault", file.vault, "--set", set, file.path, "--to", "\(out)/target"]

        // An export encrypted to a key that only a throwaway keyring holds: the operator's keyring cannot open it.
        let strangerHome = "\(out)/gnupg"
        try FileManager.default.createDirectory(atPath: strangerHome, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { _ = try? Subprocess.run("gpgconf", ["--homedir", strangerHome, "--kill", "all"]) }
        let gpg = ["--homedir", strangerHome, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        #expect(try Subprocess.run("gpg", gpg + ["--quick-gen-key", "Stranger <stranger@lab.invalid>", "default", "default", "never"]).status == 0)
        try fixture.allKeysExport().write(to: URL(fileURLWithPath: "\(out)/keys.json"))
        let sealed = try Subprocess.run("gpg", gpg + ["--trust-model", "always", "--armor", "--encrypt", "-r", "stranger@lab.invalid",
                                                      "--output", "\(out)/keys.json.asc", "\(out)/keys.json"])
        #expect(sealed.status == 0, "\(sealed.stderrText)")
        try FileManager.default.removeItem(atPath: "\(out)/keys.json")
        let noKey = try fixture.run(restore + ["--keys", "\(out)/keys.json.asc"])
        #expect(noKey.status == 2 && noKey.stderrText.contains("no secret key") && noKey.stderrText.contains("keys.json.asc"), "\(noKey.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/target"))

        let lacking = "\(out)/other.json"
        let other = [["key": Data(repeating: 7, count: 32).base64EncodedString(), "vault_id": 999, "vault_name": "not-\(file.vault)",
                      "key_info": Fixture.keyInfo(version: 1)] as [String: Any]]
        try JSONSerialization.data(withJSONObject: other).write(to: URL(fileURLWithPath: lacking))
        let noVault = try fixture.run(restore + ["--keys", lacking])
        #expect(noVault.status == 2 && noVault.stderrText.contains("holds no key for vault \(file.vault)"), "\(noVault.stderrText)")

        let wrong = "\(out)/wrong.json"
        let wrongKey = [["key": Data(repeating: 9, count: 32).base64EncodedString(), "vault_id": 1, "vault_name": file.vault,
                         "key_info": Fixture.keyInfo(version: 1)] as [String: Any]]
        try JSONSerialization.data(withJSONObject: wrongKey).write(to: URL(fileURLWithPath: wrong))
        let gcm = try fixture.run(restore + ["--keys", wrong])
        #expect(gcm.status == 1 && gcm.stderrText.contains(file.path) && gcm.stderrText.contains("nothing was written"), "\(gcm.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/target"), "no partial plaintext, no staging folder")

        try Data("a file".utf8).write(to: URL(fileURLWithPath: "\(out)/plain"))
        let notWritable = try fixture.run(["restore", "--vault", file.vault, "--set", set, file.path, "--to", "\(out)/plain/sub"])
        #expect(notWritable.status == 2 && notWritable.stderrText.contains("\(out)/plain/sub"), "\(notWritable.stderrText)")
        let rawNotWritable = try fixture.run(["restore", "\(set):/etc/vaulthalla", "--to", "\(out)/plain"])
        #expect(rawNotWritable.status == 2 && rawNotWritable.stderrText.contains("is not a folder"))

        let ok = try fixture.run(restore)
        #expect(ok.status == 0, "\(ok.stderrText)")
        let exists = try fixture.run(restore)
        #expect(exists.status == 2 && exists.stderrText.contains("exists"))
    }

    @Test("keys extract: re-encrypted to a recipient by default; plaintext only when asked, 0600, with a warning; events")
    func keysExtract() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let vault = try #require(try fixture.vaultFiles(set).first?.vault)
        let operatorKey = Self.environment["VALKYRIE_TEST_GPG_FPR"]!

        let sealed = try fixture.run(["keys", "extract", "--set", set, "--vault", vault, "--recipient", operatorKey])
        #expect(sealed.status == 0 && sealed.stdoutText.hasPrefix("-----BEGIN PGP MESSAGE-----"), "\(sealed.stderrText)")
        try sealed.stdout.write(to: URL(fileURLWithPath: "\(out)/key.asc"))
        let opened = try Subprocess.run("gpg", ["--batch", "--quiet", "--decrypt", "\(out)/key.asc"],
                                        environment: ["GNUPGHOME": Self.environment["VALKYRIE_TEST_GNUPGHOME"]!, "PATH": "/usr/bin:/bin"])
        let export = try #require(try JSONSerialization.jsonObject(with: opened.stdout) as? [String: Any])
        #expect(export["vault_name"] as? String == vault && (export["key"] as? String).flatMap { Data(base64Encoded: $0) }?.count == 32)

        let unknown = try fixture.run(["keys", "extract", "--set", set, "--vault", vault, "--recipient", "0000000000000000000000000000000000000000"])
        #expect(unknown.status == 2 && unknown.stderrText.contains("no usable encryption key"))
        let missing = try fixture.run(["keys", "extract", "--set", set, "--vault", "no-such-vault", "--recipient", operatorKey])
        #expect(missing.status == 2 && missing.stderrText.contains("holds no key for vault no-such-vault"))
        let noDestination = try fixture.run(["keys", "extract", "--set", set, "--vault", vault])
        #expect(noDestination.status == 2)

        let plain = "\(out)/key.json"
        let written = try fixture.run(["keys", "extract", "--set", set, "--vault", vault, "--plaintext", "--to", plain])
        #expect(written.status == 0 && written.stderrText.contains("warning") && written.stderrText.contains("plaintext"))
        #expect((try FileManager.default.attributesOfItem(atPath: plain)[.posixPermissions] as? Int) == 0o600)
        let key = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plain))) as? [String: Any])
        #expect(key["key"] as? String == export["key"] as? String)
        let twice = try fixture.run(["keys", "extract", "--set", set, "--vault", vault, "--plaintext", "--to", plain])
        #expect(twice.status == 2 && twice.stderrText.contains("exists"))

        let events = try Self.restores(fixture, set).filter { $0["kind"] as? String == "key" && $0["vault"] as? String == vault }
        #expect(events.contains { ($0["recipients"] as? [String])?.contains(operatorKey) == true })
        #expect(events.contains { ($0["recipients"] as? [String])?.contains("plaintext:\(plain)") == true })
        let log = try fixture.run(["log", "--json"]).stdoutText
        #expect(!log.contains(key["key"] as! String), "the key never reaches an event")
    }

    @Test("restore-plan: the set's Vaulthalla version, services, restore commands, sync info per S3 vault, a known file per vault")
    func restorePlan() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let plan = try #require(try fixture.json(["restore-plan", set]) as? [String: Any])
        let version = try Subprocess.run("\(fixture.host.root)/bin/vh", ["version"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(plan["vaulthallaVersion"] as? String == version)
        let vaults = try #require(try JSONSerialization.jsonObject(with: try Subprocess.run("\(fixture.host.root)/bin/vh", ["vaults", "--json"]).stdout) as? [[String: Any]])
        let s3 = vaults.filter { $0["type"] as? String == "s3" }.compactMap { $0["name"] as? String }
        #expect(!s3.isEmpty)
        let text = try fixture.run(["restore-plan", set]).stdoutText
        for name in s3 { #expect(text.contains("vh vault sync info") && text.contains(name)) }
        #expect(text.contains("systemctl stop") && text.contains("vh status") && text.contains("/run/vaulthalla/db_password"))
        #expect(text.contains("valkyrie restore \(set):/etc/vaulthalla --to /etc"))
        let known = try #require(plan["knownFiles"] as? [[String: Any]])
        #expect(!known.isEmpty)
        // Each known file is one that restores.
        let first = try #require(known.first)
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let read = try fixture.run(["restore", "--vault", first["vault"] as! String, "--set", set, first["path"] as! String, "--to", out])
        #expect(read.status == 0, "\(read.stderrText)")
    }

    @Test("restore --full --dry-run prints every step and writes nothing")
    func fullDryRun() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let dry = try fixture.run(["restore", fixture.sets[0], "--full", "--root", "\(out)/root", "--db", "dbname=x password=secret", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderrText)")
        #expect(dry.stderrText.contains("would restore \(fixture.sets[0]):/etc/vaulthalla") && dry.stderrText.contains("pg_restore"))
        #expect(!dry.stderrText.contains("secret") && !dry.stdoutText.contains("secret"))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/root"))
    }

    @Test("restore --full: every item under the root and the dump into a fresh database; a second run refuses")
    func fullRestore() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let env = Self.environment
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let database = "vkrestore_\(UUID().uuidString.prefix(8).lowercased())"
        let server = ["-h", env["VALKYRIE_TEST_PGHOST"]!, "-p", env["VALKYRIE_TEST_PGPORT"]!, "-U", env["VALKYRIE_TEST_PGUSER"] ?? "postgres"]
        let made = try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/createdb", server + [database])
        #expect(made.status == 0, "\(made.stderrText)")
        defer { _ = try? Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/dropdb", server + ["--if-exists", database]) }
        let conninfo = "host=\(env["VALKYRIE_TEST_PGHOST"]!) port=\(env["VALKYRIE_TEST_PGPORT"]!) user=\(env["VALKYRIE_TEST_PGUSER"] ?? "postgres") dbname=\(database)"

        let full = try fixture.run(["restore", fixture.sets[1], "--full", "--root", "\(out)/root", "--db", conninfo])
        #expect(full.status == 0, "\(full.stdoutText)\(full.stderrText)")
        #expect(try Self.sha256("\(out)/root/etc/vaulthalla/config.yaml") == Self.sha256("\(fixture.host.root)/etc/vaulthalla/config.yaml"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/root/var/lib/vaulthalla"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/root/keys"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/root/valkyrie/version.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(out)/root").allSatisfy { !$0.hasPrefix(".valkyrie-restore") })
        let count = try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/psql", server + ["-d", database, "-At", "-c", "SELECT count(*) FROM vault"])
        #expect(count.status == 0 && (Int(count.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "\(count.stderrText)")

        let again = try fixture.run(["restore", fixture.sets[1], "--full", "--root", "\(out)/root"])
        #expect(again.status == 2 && again.stderrText.contains("exists"))
        let events = try Self.restores(fixture, fixture.sets[1])
        #expect(events.contains { ($0["target"] as? String)?.hasPrefix("postgresql: ") == true && ($0["target"] as? String)?.contains(database) == true })
    }

    @Test("bad usage exits 2 before any work")
    func usage() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        for arguments in [["restore", "noset-without-colon", "--to", "/tmp"], ["restore", "\(fixture.sets[1]):/etc"],
                          ["restore", "--vault", "v", "/x", "--to", "/tmp"], ["restore", fixture.sets[1], "--full"],
                          ["keys", "extract", "--set", fixture.sets[1], "--vault", "v", "--plaintext"],
                          ["find", "x", "--since", "yesterday-ish"], ["restore", "\(fixture.sets[1]):/", "--to", "/tmp"]] {
            let result = try fixture.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderrText)")
        }
    }
}
