import Foundation
import Support
import Testing
import Vaulthalla

/// The vh stand-in on one tiny host: every answer in Vaulthalla's format, and its failure paths.
@Suite(.serialized) struct VhStandInTests {
    func vh(_ host: LabHarness.Host, _ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run(host.vh, arguments,
                           environment: LabHarness.environment.merging(["GNUPGHOME": LabHarness.environment["VALKYRIE_TEST_GNUPGHOME"] ?? ""]) { _, n in n })
    }

    @Test func answersInVaulthallasFormats() throws {
        let host = try LabHarness.Host(profile: "tiny", seed: 11)
        defer { host.close() }
        try #require(host.createResult.status == 0, "\(host.createResult.stderrText)")
        let state = try JSONSerialization.jsonObject(with: try #require(FileManager.default.contents(atPath: "\(host.root)/lab/state.json"))) as! [String: Any]
        let truth = state["vaultKeys"] as! [[String: Any]]

        #expect(try vh(host, ["version"]).stdoutText == "Vaulthalla v1.6.6\n")
        let status = try vh(host, ["status"])
        #expect(status.status == 0 && status.stdoutText.hasPrefix("vh status: healthy"))
        for (level, code) in [("degraded", Int32(1)), ("critical", 2)] {
            try level.write(toFile: "\(host.root)/lab/vh-status", atomically: true, encoding: .utf8)
            let answer = try vh(host, ["status"])
            #expect(answer.status == code && answer.stdoutText.hasPrefix("vh status: \(level)"))
        }
        try FileManager.default.removeItem(atPath: "\(host.root)/lab/vh-status")

        let vaults = try #require(try JSONSerialization.jsonObject(with: try vh(host, ["vaults", "--json"]).stdout) as? [[String: Any]])
        #expect(vaults.count == 4)
        #expect(Set(vaults[0].keys) == ["id", "name", "type", "description", "quota", "owner_id", "mount_point", "is_active", "created_at"])
        #expect(vaults.allSatisfy { Alias.isValid($0["mount_point"] as? String ?? "") })
        let s3Name = try #require(vaults.first { $0["type"] as? String == "s3" }?["name"] as? String)
        #expect(try vh(host, ["vault", "sync", "info", s3Name]).stdoutText.hasPrefix("Remote Vault Sync Configuration:\n"))
        #expect(try vh(host, ["vault", "sync", "info", "1"]).stdoutText.hasPrefix("Local Vault Sync Configuration:\n"))

        // Keys to stdout: pretty JSON, a warning on stderr, one entry per vault at its current version.
        let all = try vh(host, ["vault", "keys", "export", "all"])
        #expect(all.status == 0 && all.stderrText.contains("WARNING") && all.stdoutText.contains("\n  "))
        let exports = try VaultKeyExport.parse(all.stdout)
        #expect(exports.count == 4)
        for entry in exports {
            let current = truth.filter { $0["vaultID"] as? Int == entry.vaultID }.max { ($0["version"] as! Int) < ($1["version"] as! Int) }!
            #expect(entry.keyInfo.keyVersion == current["version"] as? Int)
            #expect(try entry.keyBytes() == Data(base64Encoded: current["key"] as! String))
        }
        #expect(exports.filter { $0.deletedVault == true }.count == 1)
        #expect(try VaultKeyExport.parse(try vh(host, ["vault", "keys", "export", "2"]).stdout).map(\.vaultID) == [2])

        // --output: absolute only, 0600, never through a symlink.
        let dir = "\(host.root)/out"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let relative = try vh(host, ["vault", "keys", "export", "all", "--output", "keys.json"])
        #expect(relative.status != 0 && relative.stderrText.contains("absolute"))
        let plainFile = try vh(host, ["secret", "export", "all", "--output", "\(dir)/secrets.json"])
        #expect(plainFile.status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/secrets.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let secrets = try SecretExport.parse(try #require(FileManager.default.contents(atPath: "\(dir)/secrets.json")))
        #expect(secrets.map(\.name) == ["db-password", "jwt-secret"])
        #expect(secrets.first?.secret == (state["secrets"] as! [String: Any])["dbPassword"] as? String)
        #expect(secrets.last?.secret == (state["secrets"] as! [String: Any])["jwtSecret"] as? String)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.json", withDestinationPath: "\(dir)/target.json")
        let viaLink = try vh(host, ["vault", "keys", "export", "all", "--output", "\(dir)/link.json"])
        #expect(viaLink.status != 0 && !FileManager.default.fileExists(atPath: "\(dir)/target.json"))

        // --recipient: gpg writes ASCII armor that the operator's key opens to the compact JSON.
        let fpr = LabHarness.environment["VALKYRIE_TEST_GPG_FPR"]!
        #expect(try vh(host, ["vault", "keys", "export", "all", "--recipient", fpr]).status != 0)
        let armored = try vh(host, ["vault", "keys", "export", "all", "--output", "\(dir)/keys.asc", "--recipient", fpr])
        #expect(armored.status == 0, "\(armored.stderrText)")
        let asc = try #require(FileManager.default.contents(atPath: "\(dir)/keys.asc"))
        #expect(String(decoding: asc, as: UTF8.self).hasPrefix("-----BEGIN PGP MESSAGE-----"))
        let opened = try Subprocess.check("gpg", ["--batch", "--decrypt"], environment: ["GNUPGHOME": LabHarness.environment["VALKYRIE_TEST_GNUPGHOME"]!, "PATH": "/usr/bin:/bin"], input: asc)
        #expect(!opened.stdoutText.contains("\n"))
        let decrypted = try VaultKeyExport.parse(opened.stdout)
        #expect(decrypted.map(\.vaultID) == exports.map(\.vaultID))
        #expect(decrypted.map(\.key) == exports.map(\.key))
        let unknown = try vh(host, ["vault", "keys", "export", "all", "--output", "\(dir)/x.asc", "--recipient", "0000000000000000000000000000000000000000"])
        #expect(unknown.status != 0 && unknown.stderrText.contains("gpg"), "\(unknown.status): \(unknown.stderrText)")

        #expect(try vh(host, ["vault", "keys", "export", "no such vault"]).status == 1)
        #expect(try vh(host, ["secret", "export", "nope"]).status == 2)
        #expect(try vh(host, ["frobnicate"]).status == 2)

        // Told to fail: the daemon is down.
        try "69 daemon down".write(toFile: "\(host.root)/lab/vh-fail", atomically: true, encoding: .utf8)
        let down = try vh(host, ["version"])
        #expect(down.status == 69 && down.stderrText.contains("daemon down"))
    }
}
