import Foundation
import Support
import Synchronization
import Testing

/// find, history, ls, diff, restore (raw, vault, full), keys extract and restore-plan against real sets: a tiny lab
/// host backed up, changed for a day and backed up again, then given raw metadata to keep (an xattr, a symlink, a
/// hard link, another owner) and two damaged vault bodies, and backed up a third time. One host and repository for the suite
/// (tests only read them, bar the events they append), destroyed after the last test.
@Suite(.serialized) struct RestoreCommandTests {
    static let environment = ProcessInfo.processInfo.environment
    static let shared = Result { try Fixture() }
    static let testCount = 12
    static let finished = Mutex(0)

    static func done() {
        let all = finished.withLock { count in
            count += 1
            return count == testCount
        }
        if all, let fixture = try? shared.get() { fixture.host.destroy() }
    }

    struct VaultFile {
        var vault: String
        var path: String
        var iv: String
        var keyVersion: Int?
        var backingPath: String?
    }

    final class Fixture: Sendable {
        let host: BackupCommandTests.LabHost
        nonisolated(unsafe) let setup: BackupCommandTests.Setup
        /// Oldest first: before the day of use, after it, and with the damaged bodies (the host as it is now).
        let sets: [String]
        /// In the last set: a body whose GCM tag fails (the database's content hash updated to match it), and one
        /// whose BLAKE2b differs from the database's record. The sets before hold them intact.
        let badTag: VaultFile, badHash: VaultFile

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
                (badTag, badHash) = try Self.damage(host, Self.vaultFiles(setup, try Self.setNames(setup).last!))
                try Self.addRawMetadata(host)
                let third = try setup.run(["backup"])
                guard third.status == 0 || third.status == 3 else { throw OperatorError.failed("third backup: \(third.stdoutText)\(third.stderrText)") }
                sets = try Self.setNames(setup)
                guard sets.count == 3 else { throw OperatorError.failed("expected three sets, got \(sets)") }
            } catch {
                host.destroy()
                throw error
            }
        }

        static func setNames(_ setup: BackupCommandTests.Setup) throws -> [String] {
            let report = try JSONSerialization.jsonObject(with: try setup.run(["sets", "--json"]).stdout) as? [String: Any]
            return (report?["sets"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }

        /// Two encrypted bodies of a vault whose every body is on key version 1 (so the set's own export opens
        /// them), one byte flipped in each; the first gets its `files.content_hash` updated to the damaged body.
        static func damage(_ host: BackupCommandTests.LabHost, _ files: [VaultFile]) throws -> (VaultFile, VaultFile) {
            let byVault = Dictionary(grouping: files, by: \.vault)
            func localBodies(_ vault: String) -> [VaultFile] {
                byVault[vault]!.filter { file in
                    !file.iv.isEmpty && file.backingPath.map { FileManager.default.fileExists(atPath: body(host, $0)) } == true
                }
            }
            let vault = try #require(byVault.keys.sorted().first { name in
                byVault[name]!.allSatisfy { $0.iv.isEmpty || $0.keyVersion == 1 } && localBodies(name).count >= 4
            }, "a local vault with bodies on key version 1 only")
            let candidates = localBodies(vault)
            let (tag, hash) = (candidates[1], candidates[2])
            for file in [tag, hash] {
                let path = body(host, file.backingPath!)
                var data = try Data(contentsOf: URL(fileURLWithPath: path))
                data[data.startIndex] ^= 0x01
                try data.write(to: URL(fileURLWithPath: path))
            }
            let digest = try Subprocess.run("b2sum", ["-l", "256", body(host, tag.backingPath!)]).stdoutText.prefix(64)
            let updated = try labSQL(host, """
                UPDATE files SET content_hash = :'h' WHERE fs_entry_id =
                  (SELECT e.id FROM fs_entry e JOIN vault v ON v.id = e.vault_id WHERE v.name = :'v' AND e.path = :'p');
                """, ["h": String(digest), "v": tag.vault, "p": tag.path])
            guard updated.status == 0, updated.stdoutText.contains("UPDATE 1") else {
                throw OperatorError.failed("updating content_hash: \(updated.stdoutText)\(updated.stderrText)")
            }
            return (tag, hash)
        }

        /// A file with an xattr, another owner, mode and time, a second hard link to it, and a symlink, for the raw
        /// restores to keep.
        static func addRawMetadata(_ host: BackupCommandTests.LabHost) throws {
            let etc = "\(host.root)/etc/vaulthalla"
            try Data("kept as it was\n".utf8).write(to: URL(fileURLWithPath: "\(etc)/owned.txt"))
            for (tool, arguments) in [("chown", ["1234:2345", "\(etc)/owned.txt"]), ("chmod", ["0640", "\(etc)/owned.txt"]),
                                      ("setfattr", ["-n", "user.valkyrie-test", "-v", "restored with the file", "\(etc)/owned.txt"]),
                                      ("touch", ["-h", "-d", "2025-03-04 05:06:07.123456789", "\(etc)/owned.txt"]),
                                      ("ln", ["-s", "config.yaml", "\(etc)/config-link.yaml"]),
                                      ("ln", ["\(etc)/owned.txt", "\(etc)/owned-hard-link.txt"])] {
                let result = try Subprocess.run(tool, arguments)
                guard result.status == 0 else { throw OperatorError.failed("\(tool): \(result.stderrText)") }
            }
        }

        static func body(_ host: BackupCommandTests.LabHost, _ backingPath: String) -> String {
            "\(host.root)/var/lib/vaulthalla/\(backingPath)"
        }

        /// psql on the lab host's database, with `:'name'` variables.
        static func labSQL(_ host: BackupCommandTests.LabHost, _ sql: String, _ variables: [String: String] = [:]) throws -> Subprocess.Result {
            let env = RestoreCommandTests.environment
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(host.root)/lab/state.json"))) as? [String: Any])
            let database = try #require((state["database"] as? [String: Any])?["name"] as? String)
            return try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/psql", [
                "-h", env["VALKYRIE_TEST_PGHOST"]!, "-p", env["VALKYRIE_TEST_PGPORT"]!, "-U", env["VALKYRIE_TEST_PGUSER"] ?? "postgres",
                "-d", database, "-At", "-v", "ON_ERROR_STOP=1"] + variables.flatMap { ["-v", "\($0.key)=\($0.value)"] },
                input: Data(sql.utf8))
        }

        static func vaultFiles(_ setup: BackupCommandTests.Setup, _ set: String) throws -> [VaultFile] {
            let result = try setup.run(["find", "*", "--set", set, "--json"])
            let found = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
            return (found["vaultFiles"] as? [[String: Any]] ?? []).compactMap {
                guard let entry = ($0["file"] as? [String: Any])?["entry"] as? [String: Any], entry["kind"] as? String == "file" else { return nil }
                return VaultFile(vault: entry["vault"] as! String, path: entry["path"] as! String, iv: entry["iv"] as? String ?? "",
                                 keyVersion: entry["keyVersion"] as? Int, backingPath: entry["backingPath"] as? String)
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

        /// Every vault file of a set.
        func vaultFiles(_ set: String) throws -> [VaultFile] { try Self.vaultFiles(setup, set) }

        /// SHA-256 and size of a live file's plaintext from the lab's own truth, found by vault name and logical path.
        func truth(vault: String, path: String) throws -> (sha256: String, size: Int)? {
            let query = try Self.labSQL(host, "SELECT e.id FROM fs_entry e JOIN vault v ON v.id = e.vault_id WHERE v.name = :'v' AND e.path = :'p';\n",
                                        ["v": vault, "p": path])
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
        #expect((config["sets"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == fixture.sets, "one version held by every set")
        #expect(try fixture.run(["find", "config.yaml"]).stdoutText.contains("(3 sets)"))

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
        #expect(history.count == 1 && (history[0]["sets"] as? [String]) == fixture.sets)
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

    /// Every entry below `root` as `path type mode uid gid mtime(ns) size links link-target`, then every xattr
    /// (symlinks' own), with `root` cut off: what a raw restore must keep.
    static func tree(_ root: String, leaving excluded: [String] = []) throws -> [String] {
        let listing = try Subprocess.run("find", [root, "-mindepth", "1", "-printf", "%P %y %m %U %G %T@ %s %n %l\n"])
        #expect(listing.status == 0, "\(listing.stderrText)")
        let attributes = try Subprocess.run("getfattr", ["-R", "-h", "-d", "-m", "-", "--absolute-names", root])
        let lines = listing.stdoutText.split(separator: "\n").map(String.init)
            + attributes.stdoutText.split(separator: "\n").map { $0.replacingOccurrences(of: root + "/", with: "") }
        return lines.filter { line in !excluded.contains { line.hasPrefix($0) || line.hasPrefix("# file: \($0)") } }.sorted()
    }

    @Test("restore SET:PATH: a file and a folder keep owners, modes, times, symlinks and xattrs; dry run writes nothing; exists refused; an event each")
    func rawRestore() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[2]
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }

        let dry = try fixture.run(["restore", "\(set):/etc/vaulthalla", "--to", out, "--dry-run"])
        #expect(dry.status == 0 && dry.stdoutText.contains("would restore"), "\(dry.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)

        let file = try fixture.run(["restore", "\(set):/etc/vaulthalla/owned.txt", "--to", out])
        #expect(file.status == 0, "\(file.stderrText)")
        let original = "\(fixture.host.root)/etc/vaulthalla/owned.txt", restored = "\(out)/owned.txt"
        #expect(try Self.sha256(restored) == Self.sha256(original))
        let a = try FileManager.default.attributesOfItem(atPath: original), b = try FileManager.default.attributesOfItem(atPath: restored)
        #expect(b[.posixPermissions] as? Int == 0o640 && a[.posixPermissions] as? Int == b[.posixPermissions] as? Int)
        #expect(a[.modificationDate] as? Date == b[.modificationDate] as? Date)
        #expect(b[.ownerAccountID] as? Int == 1234 && b[.groupOwnerAccountID] as? Int == 2345)
        let xattr = try Subprocess.run("getfattr", ["-n", "user.valkyrie-test", "--only-values", restored])
        #expect(xattr.stdoutText == "restored with the file", "\(xattr.stderrText)")

        let again = try fixture.run(["restore", "\(set):/etc/vaulthalla/owned.txt", "--to", out])
        #expect(again.status == 2 && again.stderrText.contains("\(restored) exists") && again.stderrText.contains("--overwrite"))
        let overwritten = try fixture.run(["restore", "\(set):/etc/vaulthalla/owned.txt", "--to", out, "--overwrite"])
        #expect(overwritten.status == 0)

        // The whole folder, compared entry by entry (the symlink as a symlink, every time to the nanosecond).
        let folder = try fixture.run(["restore", "\(set):/etc/vaulthalla", "--to", out])
        #expect(folder.status == 0, "\(folder.stderrText)")
        #expect(try Self.tree("\(out)/vaulthalla") == Self.tree("\(fixture.host.root)/etc/vaulthalla"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(out)/vaulthalla/config-link.yaml")) == "config.yaml")
        let inodes = try ["owned.txt", "owned-hard-link.txt"].map {
            try FileManager.default.attributesOfItem(atPath: "\(out)/vaulthalla/\($0)")[.systemFileNumber] as? Int
        }
        #expect(inodes[0] != nil && inodes[0] == inodes[1], "hard links stay one file")

        // S3 objects carry their user metadata as xattrs; the folder comes back whole.
        let s3 = try fixture.run(["restore", "\(set):/s3", "--to", out])
        #expect(s3.status == 0, "\(s3.stderrText)")
        let object = try #require(FileManager.default.enumerator(atPath: "\(out)/s3")?.compactMap { $0 as? String }
            .first { !$0.hasPrefix(".") && !$0.contains("/.vaulthalla") && $0.contains("/") && !FileManager.default.fileExists(atPath: "\(out)/s3/\($0)/.") })
        let attributes = try Subprocess.run("getfattr", ["-d", "\(out)/s3/\(object)"])
        #expect(attributes.stdoutText.contains("user.vh-"), "xattrs of \(object): \(attributes.stdoutText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["owned.txt", "s3", "vaulthalla"], "no staging folder left")

        let events = try Self.restores(fixture, set).filter { $0["kind"] as? String == "file" }
        #expect(events.contains { $0["path"] as? String == "/etc/vaulthalla/owned.txt" && $0["target"] as? String == restored })
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
                #expect(result.status == 2 && result.stdoutText.contains("on key version"), "\(result.stdoutText)")
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

    /// A refusal as the operator sees it: the exit code, one line on stderr naming what it is about.
    static func expectRefused(_ result: Subprocess.Result, _ status: Int32, _ phrases: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(result.stdoutText)\(result.stderrText)", sourceLocation: sourceLocation)
        let lines = result.stderrText.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("valkyrie: "), "one line: \(result.stderrText)", sourceLocation: sourceLocation)
        for phrase in phrases { #expect(result.stderrText.contains(phrase), "\(phrase) in \(result.stderrText)", sourceLocation: sourceLocation) }
    }

    @Test("a body that does not verify: a single file fails naming it, nothing written; its folder comes back without it (exit 3)")
    func damagedBodies() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let (intact, damaged) = (fixture.sets[1], fixture.sets[2])
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }

        for (file, why) in [(fixture.badTag, "opens the body"), (fixture.badHash, "BLAKE2b-256 of the body differs")] {
            let result = try fixture.run(["restore", "--vault", file.vault, "--set", damaged, file.path, "--to", out])
            Self.expectRefused(result, 1, ["vault \(file.vault) \(file.path) in set \(damaged)", why, "nothing was written"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "no plaintext, no temp file, no staging folder")
            // The set before holds the body intact.
            let earlier = try fixture.run(["restore", "--vault", file.vault, "--set", intact, file.path, "--to", out])
            #expect(earlier.status == 0, "\(earlier.stderrText)")
            let truth = try #require(try fixture.truth(vault: file.vault, path: file.path))
            #expect(try Self.sha256("\(out)/\((file.path as NSString).lastPathComponent)") == truth.sha256)
            try FileManager.default.removeItem(atPath: out)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        }

        // The whole vault: every other file back and equal to the lab's truth, the two damaged ones named.
        let vault = fixture.badTag.vault
        let whole = try fixture.run(["restore", "--vault", vault, "--set", damaged, "/", "--to", out])
        #expect(whole.status == 3, "\(whole.stdoutText)\(whole.stderrText)")
        #expect(whole.stdoutText.contains("not restored: vault \(vault) \(fixture.badTag.path) in set \(damaged)"), "\(whole.stdoutText)")
        #expect(whole.stdoutText.contains("not restored: vault \(vault) \(fixture.badHash.path) in set \(damaged)"))
        var good = 0
        for file in try fixture.vaultFiles(damaged) where file.vault == vault {
            let restored = "\(out)/\(vault)\(file.path)"
            if file.path == fixture.badTag.path || file.path == fixture.badHash.path {
                #expect(!FileManager.default.fileExists(atPath: restored), "\(restored) must not exist")
                continue
            }
            guard let truth = try fixture.truth(vault: vault, path: file.path) else { continue }
            #expect(try Self.sha256(restored) == truth.sha256, "\(restored)")
            #expect((try FileManager.default.attributesOfItem(atPath: restored)[.posixPermissions] as? Int) == 0o600)
            good += 1
        }
        #expect(good >= 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [vault], "no staging folder left")

        let json = try #require(try JSONSerialization.jsonObject(with: try fixture.run(
            ["restore", "--vault", vault, "--set", damaged, "/", "--to", "\(out)/again", "--json"]).stdout) as? [String: Any])
        #expect((json["failed"] as? [String])?.count == 2 && json["files"] as? Int == good && json["kind"] as? String == "directory")
    }

    @Test("key versions: a body on a version no export holds fails naming it; a stale recorded version opens with the export's")
    func keyVersions() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let files = try fixture.vaultFiles(set)
        // The lab's rotated vault: current version 3, a fifth of its bodies left on trashed version 2, and some
        // recorded as version 1 while their body is on version 3.
        let rotated = try #require(files.first { $0.keyVersion == 2 }?.vault)
        let onTwo = try #require(files.first { $0.vault == rotated && $0.keyVersion == 2 })
        let stale = try #require(files.first { $0.vault == rotated && $0.keyVersion == 1 })
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }

        let missing = try fixture.run(["restore", "--vault", rotated, "--set", set, onTwo.path, "--to", out])
        Self.expectRefused(missing, 2, ["vault \(rotated) \(onTwo.path) in set \(set) is on key version 2", "versions held: 3",
                                        "--keys FILE", "nothing was written"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        let keys = "\(out)/keys.json"
        try fixture.allKeysExport().write(to: URL(fileURLWithPath: keys))
        let given = try fixture.run(["restore", "--vault", rotated, "--set", set, onTwo.path, "--to", "\(out)/given", "--keys", keys, "--json"])
        #expect(given.status == 0, "\(given.stdoutText)")
        #expect((try JSONSerialization.jsonObject(with: given.stdout) as? [String: Any])?["keyVersion"] as? Int == 2)

        let opened = try fixture.run(["restore", "--vault", rotated, "--set", set, stale.path, "--to", "\(out)/stale", "--json"])
        #expect(opened.status == 0, "\(opened.stdoutText)")
        let summary = try #require(try JSONSerialization.jsonObject(with: opened.stdout) as? [String: Any])
        #expect(summary["keyVersion"] as? Int == 3 && summary["staleRecordedVersion"] as? Bool == true)
        let truth = try #require(try fixture.truth(vault: rotated, path: stale.path))
        #expect(try Self.sha256("\(out)/stale/\((stale.path as NSString).lastPathComponent)") == truth.sha256)
    }

    @Test("bad input through the binary: unknown set, path and vault path with the nearest named; existing targets left as they were")
    func badInput() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[2]
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let typo = String(set.dropLast()) + "x"

        Self.expectRefused(try fixture.run(["restore", "\(typo):/etc/vaulthalla", "--to", out]), 2, ["no set \(typo)", "nearest: \(set)"])
        Self.expectRefused(try fixture.run(["restore", "\(set):/etc/vaulthalla/config.yml", "--to", out]), 2,
                           ["holds no /etc/vaulthalla/config.yml", "nearest: /etc/vaulthalla/config.yaml"])
        let file = try #require(try fixture.vaultFiles(set).first { $0.path.count > 4 && $0.vault != fixture.badTag.vault })
        let misspelt = String(file.path.dropLast())
        Self.expectRefused(try fixture.run(["restore", "--vault", file.vault, "--set", typo, file.path, "--to", out]), 2, ["no set \(typo)"])
        Self.expectRefused(try fixture.run(["restore", "--vault", file.vault, "--set", set, misspelt, "--to", out]), 2,
                           ["holds no \(misspelt)", "nearest: \(file.path)"])
        Self.expectRefused(try fixture.run(["restore", "--vault", String(file.vault.dropLast()), "--set", set, file.path, "--to", out]), 2,
                           ["has no vault", "nearest: \(file.vault)"])
        Self.expectRefused(try fixture.run(["restore", typo, "--full", "--root", "\(out)/root"]), 2, ["no set \(typo)"])
        Self.expectRefused(try fixture.run(["keys", "extract", "--set", typo, "--vault", file.vault, "--plaintext", "--to", "\(out)/k"]), 2,
                           ["no set \(typo)"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "nothing written by a refusal")

        // Targets that exist stay exactly as they were, for each kind of restore.
        let name = (file.path as NSString).lastPathComponent
        for existing in ["\(out)/config.yaml", "\(out)/\(name)", "\(out)/root/etc/vaulthalla"] {
            try FileManager.default.createDirectory(atPath: (existing as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("the operator's own\n".utf8).write(to: URL(fileURLWithPath: existing))
        }
        Self.expectRefused(try fixture.run(["restore", "\(set):/etc/vaulthalla/config.yaml", "--to", out]), 2, ["\(out)/config.yaml exists", "--overwrite"])
        Self.expectRefused(try fixture.run(["restore", "--vault", file.vault, "--set", set, file.path, "--to", out]), 2, ["\(out)/\(name) exists"])
        Self.expectRefused(try fixture.run(["restore", set, "--full", "--root", "\(out)/root"]), 2, ["\(out)/root/etc/vaulthalla exists"])
        for existing in ["\(out)/config.yaml", "\(out)/\(name)", "\(out)/root/etc/vaulthalla"] {
            #expect(try String(contentsOfFile: existing, encoding: .utf8) == "the operator's own\n")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["config.yaml", name, "root"].sorted())
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(out)/root") == ["etc"])
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
        Self.expectRefused(noKey, 2, ["no secret key", "keys.json.asc"])
        // The set's own export, with a keyring that lacks the operator's key (the repository opened by passphrase).
        let slot = try fixture.run(["key", "add", "--passphrase", "--label", "restore-test"], environment: ["VALKYRIE_NEW_PASSWORD": "restore-test"])
        #expect(slot.status == 0, "\(slot.stderrText)")
        let ownExport = try fixture.run(restore, environment: ["GNUPGHOME": strangerHome, "VALKYRIE_PASSWORD": "restore-test"])
        Self.expectRefused(ownExport, 2, ["no secret key in the GPG keyring", "opens /exports/vault-keys.json.asc of set \(set)",
                                          "encrypted to", "--keys FILE"])
        #expect(!FileManager.default.fileExists(atPath: "\(out)/target"))

        let lacking = "\(out)/other.json"
        let other = [["key": Data(repeating: 7, count: 32).base64EncodedString(), "vault_id": 999, "vault_name": "not-\(file.vault)",
                      "key_info": Fixture.keyInfo(version: 1)] as [String: Any]]
        try JSONSerialization.data(withJSONObject: other).write(to: URL(fileURLWithPath: lacking))
        let noVault = try fixture.run(restore + ["--keys", lacking])
        Self.expectRefused(noVault, 2, ["holds no key for vault \(file.vault)", "it holds: not-\(file.vault)"])

        let wrong = "\(out)/wrong.json"
        let wrongKey = [["key": Data(repeating: 9, count: 32).base64EncodedString(), "vault_id": 1, "vault_name": file.vault,
                         "key_info": Fixture.keyInfo(version: file.keyVersion ?? 1)] as [String: Any]]
        try JSONSerialization.data(withJSONObject: wrongKey).write(to: URL(fileURLWithPath: wrong))
        let gcm = try fixture.run(restore + ["--keys", wrong])
        Self.expectRefused(gcm, 1, ["vault \(file.vault) \(file.path) in set \(set)", "opens the body", "nothing was written"])
        #expect(!FileManager.default.fileExists(atPath: "\(out)/target"), "no partial plaintext, no staging folder")

        try Data("a file".utf8).write(to: URL(fileURLWithPath: "\(out)/plain"))
        let notWritable = try fixture.run(["restore", "--vault", file.vault, "--set", set, file.path, "--to", "\(out)/plain/sub"])
        Self.expectRefused(notWritable, 2, ["target \(out)/plain/sub is not writable"])
        Self.expectRefused(try fixture.run(["restore", "\(set):/etc/vaulthalla", "--to", "/proc/valkyrie-restore-test"]), 2,
                           ["target /proc/valkyrie-restore-test is not writable"])
        let rawNotWritable = try fixture.run(["restore", "\(set):/etc/vaulthalla", "--to", "\(out)/plain"])
        Self.expectRefused(rawNotWritable, 2, ["target \(out)/plain is not a folder"])
        #expect(try String(contentsOfFile: "\(out)/plain", encoding: .utf8) == "a file")

        let ok = try fixture.run(restore)
        #expect(ok.status == 0, "\(ok.stderrText)")
        let exists = try fixture.run(restore)
        Self.expectRefused(exists, 2, ["target \(out)/target/\((file.path as NSString).lastPathComponent) exists", "--overwrite"])
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
        // The vault's current key, as the lab made it.
        let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixture.host.root)/lab/state.json"))) as? [String: Any])
        let labKeys = (state["vaultKeys"] as? [[String: Any]] ?? []).filter { $0["vaultID"] as? Int == export["vault_id"] as? Int }
        let current = try #require(labKeys.max { ($0["version"] as! Int) < ($1["version"] as! Int) })
        #expect(export["key"] as? String == current["key"] as? String)
        #expect((export["key_info"] as? [String: Any])?["key_version"] as? Int == current["version"] as? Int)
        // Encrypted to that recipient only: one public-key packet, for a (sub)key of the recipient, none of another key.
        let gpgEnvironment = ["GNUPGHOME": Self.environment["VALKYRIE_TEST_GNUPGHOME"]!, "PATH": "/usr/bin:/bin"]
        func keyIDs(_ message: String) throws -> [String] {
            let packets = try Subprocess.run("gpg", ["--batch", "--list-packets", message], environment: gpgEnvironment)
            return (packets.stdoutText + packets.stderrText).split(separator: "\n").filter { $0.hasPrefix(":pubkey enc packet:") }
                .compactMap { $0.components(separatedBy: "keyid ").last.map { String($0.prefix(16)).uppercased() } }
        }
        func fingerprints(_ key: String) throws -> [String] {
            try Subprocess.run("gpg", ["--batch", "--with-colons", "--with-subkey-fingerprints", "--list-keys", key], environment: gpgEnvironment)
                .stdoutText.split(separator: "\n").filter { $0.hasPrefix("fpr:") }.map { $0.split(separator: ":", omittingEmptySubsequences: false)[9].uppercased() }
        }
        let otherKey = Self.environment["VALKYRIE_TEST_GPG_OTHER_FPR"]!
        let (operatorPrints, otherPrints) = (try fingerprints(operatorKey), try fingerprints(otherKey))
        let ids = try keyIDs("\(out)/key.asc")
        #expect(ids.count == 1 && operatorPrints.contains { $0.hasSuffix(ids[0]) } && !otherPrints.contains { $0.hasSuffix(ids[0]) }, "\(ids)")
        let toOther = try fixture.run(["keys", "extract", "--set", set, "--vault", vault, "--recipient", otherKey, "--to", "\(out)/other.asc"])
        #expect(toOther.status == 0 && toOther.stdoutText.contains("encrypted to \(otherKey)"), "\(toOther.stderrText)")
        let otherIDs = try keyIDs("\(out)/other.asc")
        #expect(otherIDs.count == 1 && otherPrints.contains { $0.hasSuffix(otherIDs[0]) } && !operatorPrints.contains { $0.hasSuffix(otherIDs[0]) })

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
        // Who, what, where to; never the key (base64 or hex).
        let log = try fixture.run(["log", "--json"]).stdoutText
        let keyBytes = try #require(Data(base64Encoded: key["key"] as! String))
        #expect(!log.contains(key["key"] as! String) && !log.lowercased().contains(keyBytes.map { String(format: "%02x", $0) }.joined()),
                "the key never reaches an event")
        let logged = try #require((try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
        let extracted = logged.filter { $0["type"] as? String == "key.extracted" && ($0["payload"] as? [String: Any])?["vault"] as? String == vault }
        #expect(extracted.count == 3, "operator, other recipient, plaintext")
        for event in extracted {
            let actor = event["actor"] as? [String: Any], payload = event["payload"] as? [String: Any] ?? [:]
            #expect(actor?["name"] as? String == "root" && actor?["uid"] as? Int == 0, "who: \(event)")
            #expect(payload["keyVersion"] as? Int == current["version"] as? Int && payload["set"] as? String != nil)
            #expect(Set(payload.keys) == ["set", "vault", "keyVersion", "recipients"], "no other field: \(payload)")
        }
        let restoredEvent = try #require(logged.first { $0["type"] as? String == "file.restored" })
        #expect((restoredEvent["actor"] as? [String: Any])?["name"] as? String == "root")
        #expect(Set((restoredEvent["payload"] as? [String: Any] ?? [:]).keys).isSubset(of: ["set", "item", "path", "vault", "target", "size", "digest"]))
    }

    @Test("restore-plan: the set's Vaulthalla version, services, restore commands, sync info per S3 vault, a known file per vault")
    func restorePlan() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let set = fixture.sets[1]
        let plan = try #require(try fixture.json(["restore-plan", set]) as? [String: Any])
        let version = try Subprocess.run("\(fixture.host.root)/bin/vh", ["version"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(plan["vaulthallaVersion"] as? String == version)
        #expect(plan["set"] as? String == set && plan["host"] as? String == "e2e-host")
        #expect((plan["postgresServerVersion"] as? Int ?? 0) >= 150000 && !(plan["tpmMode"] as? String ?? "").isEmpty)
        let live = try Fixture.labSQL(fixture.host, "SELECT type || '|' || name FROM vault WHERE deleted_at IS NULL ORDER BY name;")
            .stdoutText.split(separator: "\n").map { $0.split(separator: "|", maxSplits: 1).map(String.init) }
        let s3 = live.filter { $0[0] == "s3" }.map { $0[1] }
        #expect(!s3.isEmpty && plan["s3Vaults"] as? [String] == s3.sorted())
        let text = try fixture.run(["restore-plan", set]).stdoutText
        #expect(text.hasPrefix("Restore plan for set \(set) (host e2e-host, \(version)"))
        #expect(text.contains("Install exactly \(version)") && text.contains("apt-get install vaulthalla="))
        for name in s3 { #expect(text.contains("vh vault sync info \(name.contains(" ") ? "'\(name)'" : name)"), "\(name)") }
        for phrase in ["systemctl stop", "systemctl start", "vh status", "/run/vaulthalla/db_password", "pg_restore",
                       "valkyrie restore \(set):/etc/vaulthalla --to /etc --overwrite",
                       "valkyrie restore \(set):/var/lib/vaulthalla --to /var/lib --overwrite",
                       "valkyrie restore \(set):/postgres/vaulthalla.dump"] {
            #expect(text.contains(phrase), "\(phrase)")
        }
        // One known file for each live vault that has files in the set, and each one restores with the set's own keys.
        let known = try #require(plan["knownFiles"] as? [[String: Any]])
        let withFiles = Set(try fixture.vaultFiles(set).map(\.vault)).intersection(live.map { $0[1] })
        #expect(known.compactMap { $0["vault"] as? String }.sorted() == withFiles.sorted())
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        for file in known {
            let (vault, path) = (file["vault"] as! String, file["path"] as! String)
            #expect(text.contains("--set \(set) ") && text.contains("# \(file["size"] as! Int) bytes"))
            let read = try fixture.run(["restore", "--vault", vault, "--set", set, path, "--to", "\(out)/\(vault)"])
            #expect(read.status == 0, "\(vault):\(path): \(read.stderrText)")
            let truth = try #require(try fixture.truth(vault: vault, path: path))
            #expect(try Self.sha256("\(out)/\(vault)/\((path as NSString).lastPathComponent)") == truth.sha256)
        }
    }

    @Test("restore --full --dry-run prints every step and writes nothing")
    func fullDryRun() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let dry = try fixture.run(["restore", fixture.sets[0], "--full", "--root", "\(out)/root", "--db", "dbname=x password=secret", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderrText)")
        let set = fixture.sets[0], lines = dry.stderrText.split(separator: "\n").map(String.init)
        for item in ["etc/vaulthalla", "var/lib/vaulthalla", "postgres", "keys", "exports", "valkyrie/version.json"] {
            #expect(lines.contains("would restore \(set):/\(item) -> \(out)/root/\(item)"), "\(item) in \(lines)")
        }
        #expect(lines.last == "would pg_restore --exit-on-error --dbname 'dbname=x password=***' \(out)/root/postgres/vaulthalla.dump -> dbname=x password=***")
        #expect(dry.stdoutText.contains("dry run: \(lines.count) steps, nothing written"))
        #expect(!dry.stderrText.contains("secret") && !dry.stdoutText.contains("secret"))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/root"))
    }

    /// Every table of the public schema with its row count, one `name|count` line each.
    static let rowCounts = """
        SELECT table_name || '|' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM public.%I', table_name),
                                                                          false, true, '')))[1]::text
        FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name;
        """

    @Test("restore --full: every item under the root as it was on the host, the dump into a fresh database with equal row counts; a second run refuses")
    func fullRestore() throws {
        defer { Self.done() }
        let fixture = try Self.shared.get()
        let env = Self.environment
        let set = fixture.sets[2]
        let out = try fixture.scratch()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let database = "vkrestore_\(UUID().uuidString.prefix(8).lowercased())"
        let server = ["-h", env["VALKYRIE_TEST_PGHOST"]!, "-p", env["VALKYRIE_TEST_PGPORT"]!, "-U", env["VALKYRIE_TEST_PGUSER"] ?? "postgres"]
        let made = try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/createdb", server + [database])
        #expect(made.status == 0, "\(made.stderrText)")
        defer { _ = try? Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/dropdb", server + ["--if-exists", database]) }
        let conninfo = "host=\(env["VALKYRIE_TEST_PGHOST"]!) port=\(env["VALKYRIE_TEST_PGPORT"]!) user=\(env["VALKYRIE_TEST_PGUSER"] ?? "postgres") dbname=\(database)"

        let full = try fixture.run(["restore", set, "--full", "--root", "\(out)/root", "--db", conninfo])
        #expect(full.status == 0, "\(full.stdoutText)\(full.stderrText)")
        #expect(full.stderrText.contains("restore \(set):/etc/vaulthalla -> \(out)/root/etc/vaulthalla") && full.stderrText.contains("pg_restore"))
        // Raw items as the host has them: owners, modes, times, symlinks, xattrs (the data directory without the
        // caches a backup leaves out).
        #expect(try Self.tree("\(out)/root/etc/vaulthalla") == Self.tree("\(fixture.host.root)/etc/vaulthalla"))
        #expect(try Self.tree("\(out)/root/var/lib/vaulthalla") == Self.tree("\(fixture.host.root)/var/lib/vaulthalla", leaving: [".fuse-plaintext", ".cache"]))
        #expect(FileManager.default.fileExists(atPath: "\(out)/root/keys"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/root/valkyrie/version.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(out)/root").allSatisfy { !$0.hasPrefix(".valkyrie-restore") })

        let restored = try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/psql", server + ["-d", database, "-At", "-v", "ON_ERROR_STOP=1"],
                                          input: Data(Self.rowCounts.utf8))
        let source = try Fixture.labSQL(fixture.host, Self.rowCounts)
        #expect(restored.status == 0 && source.status == 0, "\(restored.stderrText)\(source.stderrText)")
        #expect(restored.stdoutText == source.stdoutText, "row counts per table")
        #expect(restored.stdoutText.contains("\nvault|") && restored.stdoutText.split(separator: "\n").count > 10)

        let again = try fixture.run(["restore", set, "--full", "--root", "\(out)/root"])
        #expect(again.status == 2 && again.stderrText.contains("exists"))
        let events = try Self.restores(fixture, set)
        #expect(events.contains { ($0["target"] as? String)?.hasPrefix("postgresql: ") == true && ($0["target"] as? String)?.contains(database) == true })
        #expect(events.contains { $0["target"] as? String == "\(out)/root/var/lib/vaulthalla" })
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
