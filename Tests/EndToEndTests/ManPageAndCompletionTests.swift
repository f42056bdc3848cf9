import Foundation
import Support
import Testing

/// Man pages and shell completions come from the binary's own command definitions (scripts/man-pages reads
/// `valkyrie --experimental-dump-help`; ArgumentParser writes the completions), so they cannot go stale: the .deb
/// build makes them from the binary it packages. These tests check that what is made is complete and well formed.
@Suite struct ManPageAndCompletionTests {
    /// Every command path in the binary's command tree (`valkyrie`, `valkyrie key add`, ...), help excluded.
    static func commandPaths() throws -> [[String]] {
        let dump = try Subprocess.run(RepositoryCommandTests.valkyrie, ["--experimental-dump-help"])
        #expect(dump.status == 0)
        let tree = try #require(try JSONSerialization.jsonObject(with: dump.stdout) as? [String: Any])
        func walk(_ command: [String: Any], _ path: [String]) -> [[String]] {
            let name = command["commandName"] as? String ?? "?"
            guard name != "help" else { return [] }
            let subcommands = command["subcommands"] as? [[String: Any]] ?? []
            return [path + [name]] + subcommands.flatMap { walk($0, path + [name]) }
        }
        return walk(try #require(tree["command"] as? [String: Any]), [])
    }

    @Test("a man page per command, with its options, that man renders without a warning")
    func manPages() throws {
        let folder = NSTemporaryDirectory() + "valkyrie-man-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Subprocess.run("\(SystemdUnitTests.source)/scripts/man-pages", [RepositoryCommandTests.valkyrie, folder])
        #expect(made.status == 0, "\(made.stderrText)")
        let paths = try Self.commandPaths()
        #expect(paths.contains(["valkyrie", "status"]) && paths.contains(["valkyrie", "key", "add"]) && paths.count > 20)
        let pages = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(pages == Set(paths.map { $0.joined(separator: "-") + ".1" }))

        let status = try String(contentsOfFile: "\(folder)/valkyrie-status.1", encoding: .utf8)
        #expect(status.hasPrefix(#".TH "VALKYRIE-STATUS" "1""#))
        #expect(status.contains(#"\fB\-\-json\fR"#) && status.contains("monitoring check") && status.contains(".SH EXIT STATUS"))
        let top = try String(contentsOfFile: "\(folder)/valkyrie.1", encoding: .utf8)
        #expect(top.contains(#"\fBvalkyrie\-backup\fR(1)"#) && top.contains(".SH SUBCOMMANDS"))

        for page in ["valkyrie.1", "valkyrie-status.1", "valkyrie-backup.1", "valkyrie-key-add.1", "valkyrie-verify.1"] {
            let rendered = try Subprocess.run("man", ["--warnings", "-E", "UTF-8", "-l", "\(folder)/\(page)"],
                                              environment: ["PATH": "/usr/bin:/bin", "MANWIDTH": "100", "LANG": "C.UTF-8"])
            #expect(rendered.status == 0 && rendered.stderrText.isEmpty, "\(page): \(rendered.stderrText)")
            #expect(rendered.stdoutText.contains("NAME") && rendered.stdoutText.contains("SYNOPSIS"))
        }
    }

    @Test("bash, zsh and fish completions name every subcommand; the bash one parses")
    func completions() throws {
        let top = try Self.commandPaths().filter { $0.count == 2 }.map { $0[1] }
        for shell in ["bash", "zsh", "fish"] {
            let script = try Subprocess.run(RepositoryCommandTests.valkyrie, ["--generate-completion-script", shell])
            #expect(script.status == 0, "\(shell): \(script.stderrText)")
            for command in top { #expect(script.stdoutText.contains(command), "\(shell) completion lacks \(command)") }
        }
        let bash = try Subprocess.run(RepositoryCommandTests.valkyrie, ["--generate-completion-script", "bash"])
        let folder = NSTemporaryDirectory() + "valkyrie-completion-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try bash.stdout.write(to: URL(fileURLWithPath: "\(folder)/valkyrie"))
        let parsed = try Subprocess.run("bash", ["-n", "\(folder)/valkyrie"])
        #expect(parsed.status == 0, "\(parsed.stderrText)")
        // Completing `valkyrie sta` offers status, as bash would.
        let completed = try Subprocess.run("bash", ["-c", ". \(folder)/valkyrie; COMP_WORDS=(valkyrie sta); COMP_CWORD=1; COMP_LINE='valkyrie sta'; COMP_POINT=12; _valkyrie; printf '%s\\n' \"${COMPREPLY[@]}\""])
        #expect(completed.stdoutText.split(separator: "\n").contains("status"), "\(completed.stdoutText)\(completed.stderrText)")
    }
}
