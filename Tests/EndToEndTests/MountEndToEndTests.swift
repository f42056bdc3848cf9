import Catalog
import Foundation
import Support
import Synchronization
import Testing

/// `valkyrie mount` of sets that `valkyrie backup` made of a tiny lab host (plus one 256 MiB file), checked
/// against the host's originals and the lab's own ground truth (ROOT/lab/), driven as an operator would.
@Suite(.serialized) struct MountEndToEndTests {
    static let environment = ProcessInfo.processInfo.environment

    /// A live file of the lab host's database: where it is and what the lab wrote.
    struct VaultFile {
        var vault: String
        var type: String
        var bucket: String?
        var path: String
        var recordedVersion: Int?
        var currentVersion: Int
        var trashedVersions: Set<Int>
        var sha256: String
        var size: Int64
    }

    /// A host, its repository and catalog, and a mountpoint; everything removed by `destroy`.
    final class Fixture {
        let host: BackupCommandTests.LabHost
        let setup: BackupCommandTests.Setup
        let mountpoint: String
        var root: String { host.root }
        /// The one 256 MiB file of the suite, in the host's data directory (the lab caps its own files far lower).
        var bigFile: String { "\(host.root)/var/lib/vaulthalla/large upload.bin" }

        init() throws {
            host = try BackupCommandTests.LabHost()
            do {
                setup = try BackupCommandTests.Setup(labHost: host)
                mountpoint = "\(host.folder)/mnt"
                try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
                // `nobody` must reach the mountpoint to be refused (or served) by the mount itself.
                chmod(host.folder, 0o755)
                // 16 Mi lines of 16 bytes, each naming its own number: every chunk differs, and it is quick to make.
                try Subprocess.check("sh", ["-c", "seq -f %015.0f 0 16777215 > \"$1\"", "sh", bigFile])
            } catch {
                host.destroy()
                throw error
            }
        }

        func destroy() {
            _ = try? Subprocess.run("fusermount3", ["-u", "-z", mountpoint])
            host.destroy()
        }

        func run(_ arguments: [String]) throws -> Subprocess.Result { try setup.run(arguments) }

        func backup() throws -> String {
            let result = try run(["backup", "--json"])
            #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
            return try #require(try setup.json(result)["set"] as? String)
        }

        /// Starts `valkyrie mount` and waits until the kernel lists the mount.
        func mount(_ flags: [String]) async throws -> RunningProcess {
            let process = try setup.start(["mount", mountpoint] + flags)
            for _ in 0..<3000 {
                if try MountEndToEndTests.isMounted(mountpoint) { return process }
                if kill(process.pid, 0) != 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            process.signal(SIGKILL)
            let ended = process.wait()
            throw OperatorError.failed("valkyrie mount did not mount \(mountpoint) (exit \(ended.status)): \(ended.stderr)")
        }

        /// Every live file of the host's vaults with its key versions and the SHA-256 the lab recorded for it.
        func vaultFiles() throws -> [VaultFile] {
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(root)/lab/state.json"))) as? [String: Any])
            let database = try #require((state["database"] as? [String: Any])?["name"] as? String)
            let env = MountEndToEndTests.environment
            let query = try Subprocess.run("\(env["VALKYRIE_TEST_PGBIN"]!)/psql", [
                "-h", env["VALKYRIE_TEST_PGHOST"]!, "-p", env["VALKYRIE_TEST_PGPORT"]!, "-U", env["VALKYRIE_TEST_PGUSER"] ?? "postgres",
                "-d", database, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"], input: Data("""
                SELECT v.name, v.type, coalesce(s.bucket, ''), e.path, e.id, coalesce(f.encrypted_with_key_version::text, ''),
                       k.version, coalesce((SELECT string_agg(t.version::text, ',') FROM vault_keys_trashed t WHERE t.vault_id = v.id), '')
                FROM files f JOIN fs_entry e ON e.id = f.fs_entry_id JOIN vault v ON v.id = e.vault_id
                JOIN vault_keys k ON k.vault_id = v.id LEFT JOIN s3 s ON s.vault_id = v.id ORDER BY v.name, e.path;

                """.utf8))
            #expect(query.status == 0, "\(query.stderrText)")
            var truth: [String: (sha256: String, size: Int64)] = [:]
            for line in try String(contentsOfFile: "\(root)/lab/manifest.tsv", encoding: .utf8).split(separator: "\n") {
                let fields = line.split(separator: "\t").map(String.init)
                if fields.count == 3, let size = Int64(fields[2]) { truth[fields[0]] = (fields[1], size) }
            }
            return query.stdoutText.split(separator: "\n").compactMap { line in
                let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 8, let known = truth[f[4]] else { return nil }
                return VaultFile(vault: f[0], type: f[1], bucket: f[2].isEmpty ? nil : f[2], path: f[3], recordedVersion: Int(f[5]),
                                 currentVersion: Int(f[6])!, trashedVersions: Set(f[7].split(separator: ",").compactMap { Int($0) }),
                                 sha256: known.sha256, size: known.size)
            }
        }

        /// The payloads of the catalog's events of one type.
        func events(_ type: String) throws -> [[String: Any]] {
            let catalog = try Catalog.open(at: "\(setup.path)/catalog.db")
            return try catalog.events(EventFilter(type: EventType(rawValue: type))).compactMap {
                try JSONSerialization.jsonObject(with: $0.payload) as? [String: Any]
            }
        }
    }

    static func isMounted(_ mountpoint: String) throws -> Bool {
        try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
            .contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == mountpoint }
    }

    static func sha256(_ path: String) throws -> Subprocess.Result { try Subprocess.run("sha256sum", [path]) }

    /// `find` of a folder: relative path, type, size, owner, group and mode per line, sorted; the data directory's
    /// excluded caches left out, folder sizes blanked (the filesystem's business, not captured content).
    static func listing(_ folder: String) throws -> [String] {
        try Subprocess.check("find", [folder, "-mindepth", "1", "(", "-path", "\(folder)/.cache", "-o", "-path", "\(folder)/.fuse-plaintext", ")",
                                      "-prune", "-o", "-printf", "%P|%y|%s|%u|%g|%m\\n"])
            .stdoutText.split(separator: "\n").map { line in
                var fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                if fields[1] == "d" { fields[2] = "-" }
                return fields.joined(separator: "|")
            }.sorted()
    }

    static func json(_ data: Data) throws -> Any { try JSONSerialization.jsonObject(with: data) }

    @Test("a mount of real backups: every area equals the host's originals, vault files decrypt, rules hold, sets appear, SIGTERM unmounts")
    func mountOfRealBackups() async throws {
        let fixture = try Fixture()
        defer { fixture.destroy() }
        let first = try fixture.backup()
        let files = try fixture.vaultFiles()
        let mounted = try await fixture.mount(["--unlock", "--allow-other"])
        var stopped = false
        defer { if !stopped { mounted.signal(SIGKILL); _ = mounted.wait() } }
        let set = "\(fixture.mountpoint)/sets/\(first)"

        // Counts: every item's regular files equal the catalog's count of them.
        let shown = try #require(try Self.json(try fixture.run(["show", first, "--json"]).stdout) as? [String: Any])
        let items = try #require(shown["items"] as? [[String: Any]])
        #expect(items.count >= 9)
        for item in items {
            let name = try #require(item["item"] as? String), count = try #require(item["files"] as? Int)
            let found = try Subprocess.check("sh", ["-c", "find \"$1\" -type f | wc -l", "sh", "\(set)/\(name)"]).stdoutText
            #expect(found == "\(count)\n", "\(name)")
        }
        // Names, types, sizes, owners and modes of the host's folders; `ls -R` the same; every file byte for byte.
        for (item, keyMaterial) in [("etc/vaulthalla", false), ("var/lib/vaulthalla", false), ("var/lib/swtpm/vaulthalla", true)] {
            let original = "\(fixture.root)/\(item)", copy = "\(set)/\(item)"
            var expected = try Self.listing(original)
            if keyMaterial { expected = expected.map { $0.split(separator: "|").prefix(3).joined(separator: "|") } }
            let seen = try Self.listing(copy).map { keyMaterial ? $0.split(separator: "|").prefix(3).joined(separator: "|") : $0 }
            // Sealed blobs are key material: root only in the mount, whatever their captured owner.
            #expect(seen.filter { !$0.contains(".sealed_") } == expected.filter { !$0.contains(".sealed_") }, "\(item)")
            #expect(seen.count == expected.count, "\(item)")
            if item == "etc/vaulthalla" || keyMaterial {
                let lsR = { (folder: String) in try Subprocess.check("sh", ["-c", "cd \"$1\" && ls -RA .", "sh", folder]).stdoutText }
                #expect(try lsR(copy) == lsR(original), "ls -R \(item)")
            }
            for line in expected where line.split(separator: "|")[1] == "f" {
                let relative = String(line.prefix { $0 != "|" })
                guard relative != "large upload.bin" else { continue }
                let compared = try Subprocess.run("cmp", ["\(original)/\(relative)", "\(copy)/\(relative)"])
                #expect(compared.status == 0, "\(item)/\(relative): \(compared.stderrText)")
            }
        }
        // Vaulthalla's sealed secrets (`.sealed_<name>.blob/`) are key material all the way down: root only.
        let sealed = try Subprocess.check("sh", ["-c", "cd \"$1\" && find .sealed_* -printf '%y %m %U %G\\n' | sort | uniq -c",
                                                 "sh", "\(set)/var/lib/vaulthalla"]).stdoutText
        #expect(sealed.split(separator: "\n").map { $0.split(separator: " ").dropFirst().joined(separator: " ") }.sorted()
                == ["d 500 0 0", "f 400 0 0"], "\(sealed)")

        // The 256 MiB file, eight readers at once, cold: identical bytes for each.
        let big = "\(set)/var/lib/vaulthalla/large upload.bin"
        let failures = Mutex<[String]>([]), original = fixture.bigFile
        DispatchQueue.concurrentPerform(iterations: 8) { reader in
            let compared = try? Subprocess.run("cmp", [original, big])
            if compared?.status != 0 { failures.withLock { $0.append("reader \(reader): \(compared?.stderrText ?? "did not run")") } }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")

        // postgres/: the dump reads whole (its table of contents is the one backup wrote beside it).
        let pgBin = try #require(Self.environment["VALKYRIE_TEST_PGBIN"])
        let toc = try Subprocess.check("\(pgBin)/pg_restore", ["--list", "\(set)/postgres/vaulthalla.dump"]).stdoutText
        let written = try String(contentsOfFile: "\(set)/postgres/vaulthalla.toc.txt", encoding: .utf8)
        #expect(toc.contains("TABLE DATA public files") && toc == written)

        // And byte for byte what `valkyrie restore` reads out of the repository on its own.
        let restored = "\(fixture.host.folder)/restored"
        let restore = try fixture.run(["restore", "\(first):/postgres", "--to", restored])
        #expect(restore.status == 0, "\(restore.stdoutText)\(restore.stderrText)")
        let dump = try Subprocess.check("find", [restored, "-name", "vaulthalla.dump"]).stdoutText.split(separator: "\n")
        let same = try dump.count == 1 && Subprocess.run("cmp", [String(dump[0]), "\(set)/postgres/vaulthalla.dump"]).status == 0
        #expect(same, "\(dump)")

        // keys/<vault>.json.asc and exports/: OpenPGP to the operator, holding the lab's current key of each vault.
        let state = try #require(try Self.json(Data(contentsOf: URL(fileURLWithPath: "\(fixture.root)/lab/state.json"))) as? [String: Any])
        let labKeys = (state["vaultKeys"] as? [[String: Any]] ?? []).map { ($0["vaultID"] as! Int, $0["version"] as! Int, $0["key"] as! String) }
        let gpg = ["--batch", "--homedir", Self.environment["VALKYRIE_TEST_GNUPGHOME"]!, "--decrypt"]
        let all = try #require(try Self.json(try Subprocess.check("gpg", gpg + ["\(set)/exports/vault-keys.json.asc"]).stdout) as? [[String: Any]])
        #expect(!all.isEmpty)
        for entry in all {
            let vault = try #require(entry["vault_name"] as? String), id = try #require(entry["vault_id"] as? Int)
            let version = try #require((entry["key_info"] as? [String: Any])?["key_version"] as? Int)
            #expect(labKeys.contains { $0 == (id, version, entry["key"] as? String ?? "") }, "\(vault) v\(version)")
            let single = try Subprocess.check("gpg", gpg + ["\(set)/keys/\(vault).json.asc"]).stdout
            let one = try #require(try Self.json(single) as? [String: Any])
            #expect(one["key"] as? String == entry["key"] as? String, "keys/\(vault).json.asc")
        }
        _ = try Subprocess.check("cat", ["\(set)/var/lib/swtpm/vaulthalla/" + (try #require(try FileManager.default
            .contentsOfDirectory(atPath: "\(set)/var/lib/swtpm/vaulthalla").sorted().first))])

        // s3/<vault>/<key>: the objects as the S3 server holds them, their user metadata as user.* xattrs.
        let endpoint = try #require(Self.environment["VALKYRIE_TEST_S3_ENDPOINT"])
        let signed = ["--aws-sigv4", "aws:amz:\(Self.environment["AWS_DEFAULT_REGION"] ?? "us-east-1"):s3",
                      "--user", "\(Self.environment["AWS_ACCESS_KEY_ID"]!):\(Self.environment["AWS_SECRET_ACCESS_KEY"]!)"]
        let objects = files.filter { $0.bucket != nil }
        #expect(!objects.isEmpty)
        for object in objects {
            let key = String(object.path.dropFirst())
            let url = "\(endpoint)/\(object.bucket!)/\(key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!)"
            let fetched = try Subprocess.check("curl", ["-sf"] + signed + [url]).stdout
            let served = "\(set)/s3/\(object.vault)/\(key)"
            #expect(try Data(contentsOf: URL(fileURLWithPath: served)) == fetched, "\(served)")
            let headers = try Subprocess.check("curl", ["-sfI"] + signed + [url]).stdoutText.split(separator: "\r\n")
            let metadata = headers.compactMap { line -> String? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased().hasPrefix("x-amz-meta-") else { return nil }
                return "user.\(parts[0].lowercased().dropFirst("x-amz-meta-".count))=\"\(parts[1].trimmingCharacters(in: .whitespaces))\""
            }
            let xattrs = try Subprocess.check("getfattr", ["-d", "--absolute-names", served]).stdoutText
            #expect(!metadata.isEmpty && metadata.allSatisfy { xattrs.contains($0) }, "\(served): \(xattrs) vs \(metadata)")
        }

        // vaults/: every live file by its Vaulthalla name, decrypted and equal to what the lab wrote; those on a key
        // version rotated out of the export are refused (EACCES), and the log names them, the version and the remedy.
        var refused: [VaultFile] = [], stale = 0, read = 0, bytes: Int64 = 0
        for file in files {
            let path = "\(set)/vaults/\(file.vault)\(file.path)"
            let hashed = try Self.sha256(path)
            if hashed.status == 0 {
                #expect(hashed.stdoutText.hasPrefix(file.sha256), "\(path)")
                read += 1
                bytes += file.size
                if let recorded = file.recordedVersion, recorded != file.currentVersion { stale += 1 }
            } else {
                #expect(hashed.stderrText.contains("Permission denied"), "\(path): \(hashed.stderrText)")
                #expect(file.recordedVersion.map { file.trashedVersions.contains($0) } == true, "\(path) refused: \(file)")
                refused.append(file)
            }
        }
        #expect(!refused.isEmpty && stale > 0, "refused \(refused.count), stale recorded versions opened \(stale)")

        // Another user: ordinary files yes, key material and vault plaintext no.
        func asNobody(_ arguments: [String]) throws -> Subprocess.Result { try Subprocess.run("runuser", ["-u", "nobody", "--"] + arguments) }
        let ordinary = try asNobody(["cat", "\(set)/etc/vaulthalla/config.yaml"])
        #expect(ordinary.status == 0, "\(ordinary.stderrText)")
        for secret in ["keys/\(files[0].vault).json.asc", "exports/vault-keys.json.asc", "var/lib/swtpm/vaulthalla",
                       "vaults/\(files[0].vault)\(files[0].path)"] {
            let denied = try asNobody(["cat", "\(set)/\(secret)"])
            #expect(denied.status != 0 && denied.stderrText.contains("Permission denied"), "\(secret): \(denied.stderrText)")
        }

        // Every write is refused.
        for script in ["echo x > \"$1/etc/vaulthalla/config.yaml\"", "touch \"$1/etc/new\"", "mkdir \"$1/d\"", "rm \"$1/set.json\"",
                       "rm \"$1/var/lib/vaulthalla/large upload.bin\""] {
            let result = try Subprocess.run("sh", ["-c", script, "sh", set])
            #expect(result.status != 0 && result.stderrText.contains("Read-only file system"), "\(script): \(result.stderrText)")
        }

        // A second backup (after a day with a key rotation) while mounted: it appears, `latest` follows it, and its
        // files still on the rotated-out version open with the first set's export.
        let day = try Subprocess.run("\(BackupCommandTests.bin)/vaulthalla-lab", ["mutate", "--root", fixture.root, "--day", "3", "--json"])
        #expect(day.status == 0, "\(day.stderrText)")
        let rotated = try #require((try Self.json(day.stdout) as? [String: Any])?["rotatedVaults"] as? [String])
        let second = try fixture.backup()
        var latest = ""
        for _ in 0..<300 where latest != "sets/\(second)\n" {
            try await Task.sleep(for: .milliseconds(200))
            latest = try Subprocess.check("readlink", ["\(fixture.mountpoint)/latest"]).stdoutText
        }
        #expect(latest == "sets/\(second)\n")
        #expect(try Subprocess.check("ls", ["\(fixture.mountpoint)/sets"]).stdoutText == "\(first)\n\(second)\n")
        let before = Dictionary(files.map { ("\($0.vault)\($0.path)", $0) }, uniquingKeysWith: { a, _ in a })
        let older = try fixture.vaultFiles().filter { file in
            guard rotated.contains(file.vault), let recorded = file.recordedVersion, recorded < file.currentVersion,
                  let earlier = before["\(file.vault)\(file.path)"] else { return false }
            return earlier.recordedVersion == earlier.currentVersion
        }
        #expect(!older.isEmpty)
        for file in older.prefix(3) {
            let hashed = try Self.sha256("\(fixture.mountpoint)/latest/vaults/\(file.vault)\(file.path)")
            #expect(hashed.status == 0 && hashed.stdoutText.hasPrefix(file.sha256), "\(file.path): \(hashed.stderrText)")
            read += 1
            bytes += file.size
        }

        // SIGTERM unmounts cleanly, even with a file held open and a shell's working directory in the mount (they
        // lose access); the log named each refused file, its key version and what to do.
        let holders = [try Subprocess.start("sh", ["-c", "exec sleep 300 < \"$1\"", "sh", "\(set)/etc/vaulthalla/config.yaml"]),
                       try Subprocess.start("sh", ["-c", "cd \"$1\" && exec sleep 300", "sh", "\(set)/etc/vaulthalla"])]
        defer { for holder in holders { holder.signal(SIGKILL); _ = holder.wait() } }
        for holder in holders {
            for _ in 0..<2400 where (try? String(contentsOfFile: "/proc/\(holder.pid)/comm", encoding: .utf8)) != "sleep\n" {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        stopped = true
        mounted.signal(SIGTERM)
        let ended = try await onThread { mounted.wait() }
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(try !Self.isMounted(fixture.mountpoint))
        #expect(ended.stderr.contains("still in use"), "\(ended.stderr)")
        for file in refused {
            let line = ended.stderr.split(separator: "\n").first { $0.contains("vaults/\(file.vault)\(file.path):") }
            #expect(line?.contains("key version \(file.recordedVersion!) of vault \(file.vault)") == true
                    && line?.contains("--keys FILE") == true, "\(line ?? "no log line for \(file.path)")")
        }

        // The catalog: key material opened is recorded; plaintext reads are one summary at unmount.
        let extracted = try fixture.events("key.extracted")
        #expect(extracted.contains { $0["vault"] as? String == "/exports/vault-keys.json.asc" }, "\(extracted)")
        for entry in all {
            // keys/<vault>.json.asc names the vault and the key version it holds.
            let version = (entry["key_info"] as? [String: Any])?["key_version"] as? Int
            #expect(extracted.contains { $0["vault"] as? String == entry["vault_name"] as? String && $0["keyVersion"] as? Int == version },
                    "\(entry["vault_name"] ?? "?") v\(version ?? 0): \(extracted)")
        }
        let summaries = try fixture.events("mount.plaintext-read")
        #expect(summaries.count == 1)
        #expect(summaries.first?["files"] as? Int == read && (summaries.first?["bytes"] as? NSNumber)?.int64Value == bytes, "\(summaries)")

        // A plaintext `vh vault keys export` as --keys: the same files open, the same are refused, named the same way.
        let keysFile = "\(fixture.host.folder)/keys.json"
        try Subprocess.check("\(fixture.root)/bin/vh", ["vault", "keys", "export", "all", "--output", keysFile])
        let withFile = try await fixture.mount(["--keys", keysFile])
        var fileStopped = false
        defer { if !fileStopped { withFile.signal(SIGKILL); _ = withFile.wait() } }
        // Without --allow-other no other user gets in at all.
        let outsider = try asNobody(["ls", "\(fixture.mountpoint)/sets"])
        #expect(outsider.status != 0 && outsider.stderrText.contains("Permission denied"), "\(outsider.stderrText)")
        let staleFile = try #require(files.first { file in
            file.recordedVersion != nil && file.recordedVersion != file.currentVersion && !file.trashedVersions.isEmpty
                && !refused.contains { $0.path == file.path && $0.vault == file.vault }
        })
        let opened = try Self.sha256("\(fixture.mountpoint)/sets/\(first)/vaults/\(staleFile.vault)\(staleFile.path)")
        #expect(opened.status == 0 && opened.stdoutText.hasPrefix(staleFile.sha256))
        let denied = try Self.sha256("\(fixture.mountpoint)/sets/\(first)/vaults/\(refused[0].vault)\(refused[0].path)")
        #expect(denied.status != 0 && denied.stderrText.contains("Permission denied"))
        fileStopped = true
        withFile.signal(SIGTERM)
        let fileEnded = try await onThread { withFile.wait() }
        #expect(fileEnded.status == 0)
        #expect(fileEnded.stderr.contains("the --keys file holds only version \(refused[0].currentVersion)"), "\(fileEnded.stderr)")

        // A mount killed outright leaves a stale mountpoint: the next mount says so and how to clear it.
        let killed = try await fixture.mount([])
        killed.signal(SIGKILL)
        #expect(try await onThread { killed.wait() }.status == 128 + SIGKILL)
        let again = try fixture.run(["mount", fixture.mountpoint])
        #expect(again.status == 1)
        #expect(again.stderrText.contains("stale mount") && again.stderrText.contains("fusermount3 -u \(fixture.mountpoint)"), "\(again.stderrText)")
        try Subprocess.check("fusermount3", ["-u", fixture.mountpoint])
        #expect(try !Self.isMounted(fixture.mountpoint))
    }
}

/// Runs blocking work (waiting for a child) on a thread of its own, never on the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
