import Foundation
import Support
import Testing
import Vaulthalla

@Suite(.serialized) struct HostBuilderTests {
    @Test func tinyHostPassesCheckSurvivesDaysOfUseAndCatchesDamage() throws {
        let host = try LabHarness.Host(profile: "tiny", seed: 7)
        defer { host.close() }
        #expect(host.createResult.status == 0, "\(host.createResult.stderrText)")

        var (result, report) = try host.check()
        #expect(result.status == 0, "\(result.stdoutText)")
        #expect(report["vaults"] as? Int == 4)
        #expect(report["sealedSecrets"] as? Int == 4)
        #expect((report["plaintext"] as? Int ?? 0) >= 1 && (report["empty"] as? Int ?? 0) >= 1)
        #expect((report["staleKeyVersion"] as? Int ?? 0) >= 1 && (report["oldKeyVersion"] as? Int ?? 0) >= 1)
        #expect((report["s3Objects"] as? Int ?? 0) >= 1)

        let independent = try host.independentCheck(sampleEvery: 1)
        #expect(independent.result.status == 0, "\(independent.result.stdoutText) \(independent.result.stderrText)")
        #expect(independent.report["checked"] as? Int == report["files"] as? Int)

        // Three days of use, the third with a key rotation; the host stays consistent with its truth.
        var rotated = false
        for day in 1...3 {
            let mutate = try LabHarness.lab(["mutate", "--root", host.root, "--day", String(day), "--json"])
            #expect(mutate.status == 0, "\(mutate.stderrText)")
            let summary = try host.json(mutate)
            #expect((summary["added"] as? Int ?? 0) > 0 && (summary["deleted"] as? Int ?? 0) > 0)
            #expect((summary["edited"] as? Int ?? 0) > 0 && (summary["renamed"] as? Int ?? 0) > 0)
            rotated = rotated || !(summary["rotatedVaults"] as? [String] ?? []).isEmpty
        }
        #expect(rotated)
        #expect(try LabHarness.lab(["mutate", "--root", host.root, "--day", "2"]).status == 2)

        // The host's own swtpm, started for drills: check unseals through it, and stop leaves nothing running.
        let started = try LabHarness.lab(["swtpm", "start", "--root", host.root])
        #expect(started.status == 0 && started.stdoutText.hasPrefix("swtpm:host=127.0.0.1,port="))
        let pid = try #require(Int32(String(contentsOfFile: "\(host.root)/lab/swtpm.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        (result, report) = try host.check()
        #expect(result.status == 0, "\(result.stdoutText)")
        #expect(report["sealedSecrets"] as? Int == 4)
        #expect(try LabHarness.lab(["swtpm", "stop", "--root", host.root]).status == 0)
        #expect(kill(pid, 0) != 0)
        let afterDays = try host.independentCheck(sampleEvery: 1)
        #expect(afterDays.result.status == 0, "\(afterDays.result.stdoutText)")

        // One flipped byte in one body: check names it and exits 1.
        let data = HostPaths(root: host.root).dataDirectory
        let body = try #require(FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String }.first {
            $0.split(separator: "/").count == 3 && !$0.hasPrefix(".") && Alias.isValid(String($0.split(separator: "/").last!))
        })
        var bytes = try #require(FileManager.default.contents(atPath: "\(data)/\(body)"))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: "\(data)/\(body)"))
        (result, report) = try host.check()
        #expect(result.status == 1)
        let mismatches = report["mismatches"] as? [String] ?? []
        #expect(mismatches.contains { $0.contains("content_hash") })
    }

    @Test func smallHostPassesCheckAndAnIndependentDecryption() throws {
        let host = try LabHarness.Host(profile: "small", seed: 1)
        defer { host.close() }
        #expect(host.createResult.status == 0, "\(host.createResult.stderrText)")
        let (result, report) = try host.check()
        #expect(result.status == 0, "\(result.stdoutText)")
        #expect((report["files"] as? Int ?? 0) > 500)
        let independent = try host.independentCheck(sampleEvery: 7)
        #expect(independent.result.status == 0, "\(independent.result.stdoutText) \(independent.result.stderrText)")
        #expect((independent.report["encrypted"] as? Int ?? 0) > 50 && (independent.report["s3"] as? Int ?? 0) > 5)

        // The awkward cases are on disk where a backup will meet them.
        let paths = HostPaths(root: host.root)
        let data = paths.dataDirectory
        let fm = FileManager.default
        #expect(try fm.contentsOfDirectory(atPath: "\(data)/.fuse-plaintext").count == 1)
        #expect(fm.fileExists(atPath: "\(data)/.cache"))
        for secret in SealedSecret.allCases {
            let files = paths.sealedBlobFiles(secret)
            #expect(fm.fileExists(atPath: files.privateArea) && fm.fileExists(atPath: files.publicArea))
        }
        let deepest = fm.enumerator(atPath: data)?.compactMap { $0 as? String }.map { $0.split(separator: "/").count }.max() ?? 0
        #expect(deepest >= 22) // vault folder + 20 folders + the file
        let config = try VaulthallaConfig.load(path: paths.configFile)
        #expect(config.database.name == host.database)
    }

    @Test func theSameSeedGivesTheSameHost() throws {
        let a = try LabHarness.Host(profile: "tiny", seed: 42)
        defer { a.close() }
        let b = try LabHarness.Host(profile: "tiny", seed: 42)
        defer { b.close() }
        #expect(a.createResult.status == 0 && b.createResult.status == 0)
        func tree(_ root: String) -> [String] {
            let data = HostPaths(root: root).dataDirectory
            return (FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String } ?? [])
                .filter { !$0.hasPrefix(".sealed_") && !$0.hasPrefix("super_admin") }.sorted()
        }
        #expect(tree(a.root) == tree(b.root))
        #expect(FileManager.default.contents(atPath: "\(a.root)/lab/manifest.tsv") == FileManager.default.contents(atPath: "\(b.root)/lab/manifest.tsv"))
    }

    @Test func filesPerVaultReplacesTheProfilesCount() throws {
        let host = try LabHarness.Host(profile: "tiny", seed: 4, arguments: ["--files-per-vault", "40"])
        defer { host.close() }
        #expect(host.createResult.status == 0, "\(host.createResult.stderrText)")
        // Tiny has two local vaults and an S3 vault of 12 files each (about 50 files in all with its special ones).
        let files = try #require(try host.json(host.createResult)["files"] as? Int)
        #expect(files >= 3 * 40)
        #expect(try host.check().result.status == 0)
        let refused = try LabHarness.lab(["create", "--root", "/tmp/vhlab-none-\(UUID().uuidString)", "--files-per-vault", "0"])
        // A usage error, as for any bad flag of the lab (ArgumentParser's EX_USAGE).
        #expect(refused.status == 64 && refused.stderrText.contains("--files-per-vault must be at least 1"))
    }

    @Test func createRefusesANonEmptyFolderAndAnExistingDatabase() throws {
        let host = try LabHarness.Host(profile: "tiny", seed: 3)
        defer { host.close() }
        #expect(host.createResult.status == 0)
        let again = try LabHarness.lab(["create", "--root", host.root, "--profile", "tiny", "--database", "other_db"])
        #expect(again.status == 2 && again.stderrText.contains("not empty"))
        let other = "/tmp/vhlab-refuse-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: other) }
        let sameDB = try LabHarness.lab(["create", "--root", other, "--profile", "tiny", "--database", host.database])
        #expect(sameDB.status == 2 && sameDB.stderrText.contains("already exists"))
        let notALab = try LabHarness.lab(["mutate", "--root", other, "--day", "1"])
        #expect(notALab.status == 2 && notALab.stderrText.contains("not a lab host"))
        let noServices = try Subprocess.run(LabHarness.binary, ["create", "--root", other], environment: ["PATH": "/usr/bin:/bin"])
        #expect(noServices.status == 2 && noServices.stderrText.contains("no PostgreSQL cluster"))
    }
}
