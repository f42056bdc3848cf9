import Catalog
import Foundation
import Mount
import POSIX
import Support
import Synchronization
import Testing

/// Real mounts of lab sets through the kernel. Serialized: each mount is a handful of threads on a small machine.
@Suite(.serialized) struct MountTests {
    /// `find` of a folder: relative path, type and size per line, sorted; with owners and modes when asked.
    private func listing(_ folder: String, owners: Bool) throws -> [String] {
        let format = owners ? "%P|%y|%s|%U|%G|%m\\n" : "%P|%y|%s\\n"
        return try Subprocess.check("find", [folder, "-printf", format]).stdoutText.split(separator: "\n").map { line in
            // A folder's size is its filesystem's business, not captured content.
            var fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            if fields[1] == "d" { fields[2] = "-" }
            return fields.joined(separator: "|")
        }.sorted()
    }

    @Test func everyAreaMatchesTheOriginals() async throws {
        let lab = try await LabSet.make(bigFileBytes: 24 << 20)
        let set = lab.sets[0]
        try await TestMount.with(lab, keys: .gpg(homeDirectory: lab.gnupgHome)) { mount in
            let root = "\(mount.path)/sets/\(set.name)"
            // Eight readers of the large, multi-chunk file at once, cold.
            let big = lab.original(lab.aliases["/big.bin"]!)
            let failures = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                if (try? Subprocess.run("cmp", [big, "\(root)/\(lab.aliases["/big.bin"]!)"]))?.status != 0 { failures.withLock { $0 += 1 } }
            }
            #expect(failures.withLock { $0 } == 0)
            // And eight of its vault name at once: one decryption, shared by every open that arrives during it.
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                if (try? Subprocess.run("cmp", [big, "\(root)/vaults/alpha/big.bin"]))?.status != 0 { failures.withLock { $0 += 1 } }
            }
            #expect(failures.withLock { $0 } == 0)

            // Names, types and sizes of every root; owners and modes as captured outside key material.
            var expectedCount = 0
            for item in LabSet.treeRoots {
                let keyMaterial = ["exports", "keys", "var/lib/swtpm/vaulthalla"].contains(item)
                #expect(try listing("\(root)/\(item)", owners: false) == listing(lab.original(item), owners: false), "\(item)")
                if !keyMaterial {
                    let captured = { (lines: [String]) in lines.filter { !$0.hasPrefix("|") && !$0.contains(".sealed_") } }
                    #expect(captured(try listing("\(root)/\(item)", owners: true)) == captured(try listing(lab.original(item), owners: true)), "\(item)")
                }
                for file in try listing(lab.original(item), owners: false) where file.contains("|f|") {
                    let relative = String(file.prefix { $0 != "|" })
                    let compared = try Subprocess.run("cmp", [lab.original("\(item)/\(relative)"), "\(root)/\(item)/\(relative)"])
                    #expect(compared.status == 0, "\(item)/\(relative): \(compared.stderrText)")
                }
                let lsR = { (folder: String) in try Subprocess.check("sh", ["-c", "cd '\(folder)' && ls -RA ."]).stdoutText }
                #expect(try lsR("\(root)/\(item)") == lsR(lab.original(item)), "ls -R \(item)")
                expectedCount += try listing(lab.original(item), owners: false).count
            }
            for file in ["valkyrie/version.json", "valkyrie/vault-index.jsonl"] {
                #expect(try Subprocess.run("cmp", [lab.original(file), "\(root)/\(file)"]).status == 0, "\(file)")
            }
            // Key material: root only, whatever the captured mode.
            #expect(try Subprocess.check("stat", ["-c", "%a %u %g", "\(root)/keys/alpha.json.asc"]).stdoutText == "400 0 0\n")
            #expect(try Subprocess.check("stat", ["-c", "%a %u %g", "\(root)/var/lib/swtpm/vaulthalla"]).stdoutText == "500 0 0\n")
            let sealed = try Subprocess.check("sh", ["-c", "stat -c '%a %u' \(root)/var/lib/vaulthalla/.sealed_*"]).stdoutText
            #expect(sealed == "400 0\n")

            // The whole tree: the roots, the 2 file roots, 5 folders above roots (etc, var, var/lib, var/lib/swtpm,
            // valkyrie), the set folder, set.json, vaults/ with 2 vaults and their 8 entries, and the top level
            // (root, README.txt, sets, incomplete, hosts, hosts/labhost, its link, drills, latest).
            expectedCount += 2 + 5 + 1 + 1 + 1 + 2 + 8 + 9
            #expect(try Subprocess.check("sh", ["-c", "find '\(mount.path)' | wc -l"]).stdoutText == "\(expectedCount)\n")

            // Plaintext of vault files: current key, stale recorded key version, empty-IV body, an S3 object.
            for (file, plain) in lab.plaintexts {
                #expect(try Subprocess.check("cat", ["\(root)/vaults/\(file)"]).stdout == plain, "\(file)")
                #expect(try Subprocess.check("stat", ["-c", "%s", "\(root)/vaults/\(file)"]).stdoutText == "\(plain.count)\n")
            }
            // The S3 object's user metadata.
            let object = "\(root)/s3/beta/photos/cat.jpg"
            let iv = try Subprocess.check("getfattr", ["--only-values", "-n", "user.vh-iv", object]).stdout
            #expect(iv == (try ExtendedAttributes.value(lab.original("s3/beta/photos/cat.jpg"), "user.vh-iv")))
            #expect(try Subprocess.check("getfattr", ["-d", object]).stdoutText.contains("user.vh-key-version=\"1\""))

            // The top level.
            #expect(try Subprocess.check("readlink", ["\(mount.path)/latest"]).stdoutText == "sets/\(set.name)\n")
            #expect(try Subprocess.check("readlink", ["\(mount.path)/hosts/labhost/\(set.name)"]).stdoutText == "../../sets/\(set.name)\n")
            #expect(try Subprocess.check("cat", ["\(mount.path)/latest/etc/vaulthalla/config.yaml"]).stdout
                    == (try Data(contentsOf: URL(fileURLWithPath: lab.original("etc/vaulthalla/config.yaml")))))
            let setJSON = try JSONSerialization.jsonObject(with: try Subprocess.check("cat", ["\(root)/set.json"]).stdout) as? [String: Any]
            #expect(setJSON?["name"] as? String == set.name)
            #expect((setJSON?["version"] as? [String: Any])?["tpm_mode"] as? String == "swtpm")
            #expect(try Subprocess.check("cat", ["\(mount.path)/README.txt"]).stdoutText.contains("sets/<UTC time>_<host>/"))

            // Every write is refused.
            for script in ["echo x > '\(root)/etc/vaulthalla/config.yaml'", "touch '\(root)/etc/new'", "mkdir '\(root)/d'",
                           "rm '\(root)/set.json'", "chmod 777 '\(root)/etc/vaulthalla/config.yaml'"] {
                let result = try sh(script)
                #expect(result.status != 0 && result.stderrText.contains("Read-only file system"), "\(script): \(result.stderrText)")
            }
        }
        // Key material opened: recorded per file; plaintext reads: one summary at unmount.
        let extracted = try lab.catalog.events(EventFilter(type: .keyExtracted))
        #expect(Set(extracted.compactMap { try? JSONSerialization.jsonObject(with: $0.payload) as? [String: Any] }
            .compactMap { $0["vault"] as? String }).isSuperset(of: ["alpha", "beta", "/exports/vault-keys.json.asc"]))
        let summaries = try lab.catalog.events(EventFilter(type: MountPlaintextRead.type))
        #expect(summaries.count == 1)
        let summary = try JSONDecoder().decode(MountPlaintextRead.self, from: summaries[0].payload)
        #expect(summary.files == 4 && summary.sets == [set.id])
    }

    @Test func lockedMountShowsNamesAndRefusesReadsUntilGivenKeys() async throws {
        let lab = try await LabSet.make()
        let set = lab.sets[0]
        let report = "sets/\(set.name)/vaults/alpha/docs/report.txt"
        var inode = ""
        try await TestMount.with(lab) { mount in
            #expect(try Subprocess.check("ls", ["\(mount.path)/sets/\(set.name)/vaults/alpha/docs"]).stdoutText == "damaged.txt\nold.txt\nreport.txt\nstale.txt\n")
            #expect(try Subprocess.check("stat", ["-c", "%s", "\(mount.path)/\(report)"]).stdoutText
                    == "\(lab.plaintexts["alpha/docs/report.txt"]!.count)\n")
            let denied = try Subprocess.run("cat", ["\(mount.path)/\(report)"])
            #expect(denied.status != 0 && denied.stderrText.contains("Permission denied"))
            #expect(mount.log.contains { $0.contains("--unlock") && $0.contains("--keys FILE") })
            inode = try Subprocess.check("stat", ["-c", "%i", "\(mount.path)/sets/\(set.name)/etc/vaulthalla/certs/server.pem"]).stdoutText
        }
        #expect(try lab.catalog.events(EventFilter(type: MountPlaintextRead.type)).isEmpty)
        // A plaintext export given as --keys opens them; inode numbers are the same on the next mount.
        try await TestMount.with(lab, keys: .export(try lab.plaintextKeyExport())) { mount in
            let plain = try Subprocess.check("cat", ["\(mount.path)/\(report)"]).stdout
            #expect(plain == lab.plaintexts["alpha/docs/report.txt"])
            let again = try Subprocess.check("stat", ["-c", "%i", "\(mount.path)/sets/\(set.name)/etc/vaulthalla/certs/server.pem"])
            #expect(again.stdoutText == inode)
            // A body on a key version the export lacks is intact: refused as access, not damage.
            let old = try Subprocess.run("cat", ["\(mount.path)/sets/\(set.name)/vaults/alpha/docs/old.txt"])
            #expect(old.status != 0 && old.stderrText.contains("Permission denied"))
            // A damaged body is EIO, and the log says how to find out more.
            let damaged = try Subprocess.run("cat", ["\(mount.path)/sets/\(set.name)/vaults/alpha/docs/damaged.txt"])
            #expect(damaged.status != 0 && damaged.stderrText.contains("Input/output error"), "\(damaged.stderrText)")
            #expect(mount.log.contains { $0.contains("/vaults/alpha/docs/damaged.txt: no key version of vault alpha verifies this body")
                                         && $0.contains("valkyrie verify --read-data") })
            #expect(mount.log.contains { $0.contains("/vaults/alpha/docs/old.txt: the body is intact but encrypted with key version 1 of vault alpha; "
                                                     + "the --keys file holds only version 2") && $0.contains("--keys FILE") })
        }
    }

    @Test func otherUsersAreKeptFromKeyMaterial() async throws {
        let lab = try await LabSet.make()
        let root = "sets/\(lab.sets[0].name)"
        try await TestMount.with(lab, allowOther: true) { mount in
            func asNobody(_ arguments: [String]) throws -> Subprocess.Result {
                try Subprocess.run("runuser", ["-u", "nobody", "--"] + arguments)
            }
            let ordinary = try asNobody(["cat", "\(mount.path)/\(root)/etc/vaulthalla/certs/server.pem"])
            #expect(ordinary.status == 0 && ordinary.stdoutText.contains("BEGIN CERTIFICATE"))
            for path in ["keys/alpha.json.asc", "exports/vault-keys.json.asc", "etc/vaulthalla/config.yaml"] {
                let denied = try asNobody(["cat", "\(mount.path)/\(root)/\(path)"])
                #expect(denied.status != 0 && denied.stderrText.contains("Permission denied"), "\(path)")
            }
            let swtpm = try asNobody(["ls", "\(mount.path)/\(root)/var/lib/swtpm/vaulthalla"])
            #expect(swtpm.status != 0 && swtpm.stderrText.contains("Permission denied"))
            #expect(try Subprocess.check("cat", ["\(mount.path)/\(root)/keys/alpha.json.asc"]).stdout.count > 0)
        }
    }

    @Test func aSetCompletedWhileMountedAppears() async throws {
        let lab = try await LabSet.make(bigFileBytes: 1 << 20)
        try await TestMount.with(lab) { mount in
            #expect(try Subprocess.check("ls", ["\(mount.path)/sets"]).stdoutText == "\(lab.sets[0].name)\n")
            let second = try await lab.addSet(startedAt: lab.sets[0].startedAt.addingTimeInterval(60))
            var seen = ""
            for _ in 0..<50 where !seen.hasSuffix("sets/\(second.name)\n") {
                try await Task.sleep(for: .milliseconds(100))
                seen = try Subprocess.check("readlink", ["\(mount.path)/latest"]).stdoutText
            }
            #expect(seen == "sets/\(second.name)\n")
            // The second set's vault index is a patch on the first's; the mount shows the file itself.
            #expect(try #require(lab.lastVaultIndex).patchBase != nil)
            let index = "valkyrie/vault-index.jsonl"
            #expect(try Subprocess.run("cmp", [lab.original(index), "\(mount.path)/sets/\(second.name)/\(index)"]).status == 0)
            let vaults = { (set: SetRecord) in try Subprocess.check("sh", ["-c", "cd '\(mount.path)/sets/\(set.name)/vaults' && ls -R ."]).stdoutText }
            #expect(try vaults(second) == vaults(lab.sets[0]) && !(try vaults(second)).isEmpty)
            #expect(try Subprocess.check("ls", ["\(mount.path)/sets"]).stdoutText == "\(lab.sets[0].name)\n\(second.name)\n")
            #expect(try Subprocess.check("ls", ["\(mount.path)/hosts/labhost"]).stdoutText == "\(lab.sets[0].name)\n\(second.name)\n")
        }
    }

    @Test func drillsPartialSetsAndWhatSetJSONSays() async throws {
        let lab = try await LabSet.make(bigFileBytes: 1 << 20)
        let set = lab.sets[0]
        let drill = UUID()
        try lab.catalog.append(DrillStarted(drill: drill, set: set.id))
        try lab.catalog.append(DrillCheck(drill: drill, set: set.id, name: "pg_restore", passed: true, evidence: "42 tables | restored"))
        try lab.catalog.append(DrillCheck(drill: drill, set: set.id, name: "vault file", passed: false, evidence: "alpha /docs/old.txt: no key"))
        try lab.catalog.append(DrillCompleted(drill: drill, set: set.id, passed: false))
        let partial = try await lab.addSet(startedAt: set.startedAt.addingTimeInterval(60), warnings: ["alpha /docs/report.txt: body hash differs"])
        try await TestMount.with(lab) { mount in
            // A partial set is under incomplete/, never `latest`; its host link points there.
            #expect(try Subprocess.check("ls", ["\(mount.path)/sets"]).stdoutText == "\(set.name)\n")
            #expect(try Subprocess.check("ls", ["\(mount.path)/incomplete"]).stdoutText == "\(partial.name)\n")
            #expect(try Subprocess.check("readlink", ["\(mount.path)/latest"]).stdoutText == "sets/\(set.name)\n")
            #expect(try Subprocess.check("readlink", ["\(mount.path)/hosts/labhost/\(partial.name)"]).stdoutText
                    == "../../incomplete/\(partial.name)\n")
            #expect(try Subprocess.check("cat", ["\(mount.path)/incomplete/\(partial.name)/etc/vaulthalla/config.yaml"]).stdout
                    == (try Data(contentsOf: URL(fileURLWithPath: lab.original("etc/vaulthalla/config.yaml")))))

            // drills/: the report as Markdown and JSON; set.json names the last drill and the coherence result.
            let base = "\(mount.path)/drills/\(set.name)_\(drill.uuidString.prefix(8).lowercased())"
            #expect(try Subprocess.check("ls", ["\(mount.path)/drills"]).stdoutText
                    == "\((base as NSString).lastPathComponent).json\n\((base as NSString).lastPathComponent).md\n")
            let markdown = try Subprocess.check("cat", ["\(base).md"]).stdoutText
            #expect(markdown.contains("1 checks passed, 1 failed") && markdown.contains("| vault file | FAILED | alpha /docs/old.txt: no key |")
                    && markdown.contains("42 tables \\| restored"), "\(markdown)")
            let report = try #require(try JSONSerialization.jsonObject(with: try Subprocess.check("cat", ["\(base).json"]).stdout) as? [String: Any])
            #expect(report["id"] as? String == drill.uuidString && (report["checks"] as? [Any])?.count == 2)

            let shown = try #require(try JSONSerialization.jsonObject(with: try Subprocess.check("cat", ["\(mount.path)/sets/\(set.name)/set.json"]).stdout) as? [String: Any])
            let last = try #require(shown["last_drill"] as? [String: Any])
            #expect(last["id"] as? String == drill.uuidString && last["passed"] as? Int == 1 && last["failed"] as? Int == 1)
            #expect((shown["coherence"] as? [String: Any])?["result"] as? String == "coherent")
            #expect((shown["version"] as? [String: Any])?["tpm_mode"] as? String == "swtpm")
            #expect((shown["exports"] as? [[String: Any]])?.first?["recipients"] as? [String] == [lab.recipient])
            let incomplete = try #require(try JSONSerialization.jsonObject(with: try Subprocess.check("cat", ["\(mount.path)/incomplete/\(partial.name)/set.json"]).stdout) as? [String: Any])
            #expect(incomplete["status"] as? String == "partial")
            #expect((incomplete["coherence"] as? [String: Any])?["mismatches"] as? [String] == ["alpha /docs/report.txt: body hash differs"])
            #expect(incomplete["last_drill"] == nil)
        }
    }
}
