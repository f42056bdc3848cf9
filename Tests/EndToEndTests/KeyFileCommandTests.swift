import Foundation
import Support
import Testing

/// `key add --key-file` and opening with a key file alone, driven as an operator would.
@Suite struct KeyFileCommandTests {
    /// RepositoryCommandTests' clean environment, with no passphrase unless one is named.
    func run(_ arguments: [String], password: String? = nil, extra: [String: String] = [:]) throws -> Subprocess.Result {
        try RepositoryCommandTests().run(arguments, password: password, extra: extra)
    }

    @Test("key add --key-file makes a 0600 key file; it alone opens the repository (flag, env, config); a wrong one exits 2")
    func keyFileSlot() throws {
        let folder = RepositoryCommandTests.Folder()
        let keyFile = "\(folder.path)/repo.key"
        #expect(try run(["init", "--repo", folder.repo], password: "first passphrase").status == 0)
        let added = try run(["key", "add", "--key-file", keyFile, "--label", "host", "--repo", folder.repo, "--json"],
                            password: "first passphrase")
        #expect(added.status == 0, "\(added.stderrText)")
        let secret = try String(contentsOfFile: keyFile, encoding: .utf8)
        #expect(secret.count == 65)
        #expect((try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int) == 0o600)
        #expect(!added.stdoutText.contains(secret.prefix(64)) && !added.stderrText.contains(secret.prefix(64)))
        let list = try run(["key", "list", "--repo", folder.repo])
        #expect(list.status == 0 && list.stdoutText.contains("keyfile") && list.stdoutText.contains("host"))

        // No passphrase at all: the key file opens it, from $VALKYRIE_KEY_FILE, --key-file and the config's key_file.
        let byEnvironment = try run(["verify", "--repo", folder.repo], extra: ["VALKYRIE_KEY_FILE": keyFile])
        #expect(byEnvironment.status == 0, "\(byEnvironment.stderrText)")
        #expect(try run(["verify", "--repo", folder.repo, "--key-file", keyFile]).status == 0)
        let config = "\(folder.path)/valkyrie.yaml"
        _ = FileManager.default.createFile(atPath: config, contents: Data("repository: \(folder.repo)\nkey_file: \(keyFile)\n".utf8))
        let byConfig = try run(["verify"], extra: ["VALKYRIE_CONFIG": config])
        #expect(byConfig.status == 0, "\(byConfig.stderrText)")

        // The same key file may open a second repository: key add reads it instead of making a new one.
        let second = "\(folder.path)/second"
        #expect(try run(["init", "--repo", second], password: "other passphrase").status == 0)
        #expect(try run(["key", "add", "--key-file", keyFile, "--repo", second], password: "other passphrase").status == 0)
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == secret)
        #expect(try run(["verify", "--repo", second], extra: ["VALKYRIE_KEY_FILE": keyFile]).status == 0)

        // A wrong key file: exit 2, one line naming the slot, none of either file's bytes.
        let wrongFile = "\(folder.path)/wrong.key"
        #expect(try run(["key", "add", "--key-file", wrongFile, "--repo", second], password: "other passphrase").status == 0)
        let wrongSecret = try String(contentsOfFile: wrongFile, encoding: .utf8)
        let wrong = try run(["verify", "--repo", folder.repo], extra: ["VALKYRIE_KEY_FILE": wrongFile])
        #expect(wrong.status == 2)
        // verify's own log lines (started, failed) aside, the error is one line.
        let lines = wrong.stderrText.split(separator: "\n").filter { !$0.hasPrefix("valkyrie: verify: ") }
        #expect(lines.count == 1 && lines[0].contains("does not open keyfile slot"), "\(wrong.stderrText)")
        #expect(!wrong.stderrText.contains(wrongSecret.prefix(64)) && !wrong.stderrText.contains(secret.prefix(64)))

        // Open to group: refused before any slot is tried, also by key add.
        chmod(keyFile, 0o640)
        let loose = try run(["verify", "--repo", folder.repo], extra: ["VALKYRIE_KEY_FILE": keyFile])
        #expect(loose.status == 2 && loose.stderrText.contains("open to group or others"), "\(loose.stderrText)")
        let looseAdd = try run(["key", "add", "--key-file", keyFile, "--repo", folder.repo], password: "first passphrase")
        #expect(looseAdd.status == 2 && looseAdd.stderrText.contains("open to group or others"))
        chmod(keyFile, 0o600)

        // A key file that is not there (a host rebuilt from its old config): the passphrase still opens the
        // repository, with a warning; with no other credential, the missing file is the error.
        let missing = "\(folder.path)/missing.key"
        let rebuilt = try run(["verify", "--repo", folder.repo], password: "first passphrase", extra: ["VALKYRIE_KEY_FILE": missing])
        #expect(rebuilt.status == 0 && rebuilt.stderrText.contains("warning: key file \(missing) does not exist"), "\(rebuilt.stderrText)")
        let nothing = try run(["verify", "--repo", folder.repo], extra: ["VALKYRIE_KEY_FILE": missing])
        #expect(nothing.status == 2 && nothing.stderrText.contains("does not exist"), "\(nothing.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: missing))

        // The key file does not count as portable: the last passphrase slot stays.
        let slots = try #require(try JSONSerialization.jsonObject(with: try run(["key", "list", "--repo", folder.repo, "--json"]).stdout) as? [[String: Any]])
        let passphraseID = try #require(slots.first { $0["kind"] as? String == "passphrase" }?["id"] as? String)
        let refused = try run(["key", "remove", passphraseID, "--repo", folder.repo], extra: ["VALKYRIE_KEY_FILE": keyFile])
        #expect(refused.status == 2 && refused.stderrText.contains("last portable slot"), "\(refused.stderrText)")
    }

    @Test("init --key-file adds a key-file slot beside the passphrase; a key file alone is refused as the only slot")
    func initWithKeyFile() throws {
        let folder = RepositoryCommandTests.Folder()
        let keyFile = "\(folder.path)/init.key"
        let created = try run(["init", "--repo", folder.repo, "--key-file", keyFile], password: "first passphrase")
        #expect(created.status == 0 && created.stdoutText.contains("keyfile slot"), "\(created.stderrText)")
        #expect(try run(["verify", "--repo", folder.repo], extra: ["VALKYRIE_KEY_FILE": keyFile]).status == 0)
        let aloneKey = "\(folder.path)/alone.key"
        let alone = try run(["init", "--repo", "\(folder.path)/alone", "--key-file", aloneKey])
        #expect(alone.status == 2 && alone.stderrText.contains("key-file slot only"), "\(alone.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: "\(folder.path)/alone/config"))
        #expect(!FileManager.default.fileExists(atPath: aloneKey))
    }

    @Test("key add takes exactly one kind: --key-file with --passphrase exits 2")
    func oneKind() throws {
        let folder = RepositoryCommandTests.Folder()
        let both = try run(["key", "add", "--key-file", "\(folder.path)/k", "--passphrase", "--repo", folder.repo])
        #expect(both.status == 2 && both.stderrText.contains("--key-file PATH"))
        #expect(!FileManager.default.fileExists(atPath: "\(folder.path)/k"))
    }
}
