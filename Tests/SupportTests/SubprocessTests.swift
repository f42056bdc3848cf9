import Foundation
import Support
import Testing

@Suite struct SubprocessTests {
    @Test func capturesBothStreamsAndStatus() throws {
        let result = try Subprocess.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrSummary == "err")
    }

    @Test func feedsStandardInput() throws {
        let result = try Subprocess.check("cat", input: Data("hello".utf8))
        #expect(result.stdoutText == "hello")
    }

    @Test func largeOutputDoesNotDeadlock() throws {
        let result = try Subprocess.check("sh", ["-c", "head -c 5000000 /dev/zero; head -c 300000 /dev/zero >&2"])
        #expect(result.stdout.count == 5_000_000)
        #expect(result.stderr.count == 300_000)
    }

    @Test func missingProgramIsAnOperatorError() {
        #expect(throws: OperatorError.self) { try Subprocess.run("no-such-program-valkyrie") }
    }

    @Test func failureNamesTheProgram() {
        do {
            try Subprocess.check("sh", ["-c", "echo boom >&2; exit 1"])
            Issue.record("expected a failure")
        } catch let error as OperatorError {
            #expect(error.status == .failed)
            #expect(error.problem.contains("sh") && error.problem.contains("boom"))
        } catch { Issue.record("unexpected \(error)") }
    }
}

@Suite struct SubprocessSignalTests {
    @Test func childrenCanBeStoppedWithSIGTERM() async throws {
        // From a Swift concurrency thread, whose signal mask blocks signals: the child must still die on SIGTERM.
        let result = try Subprocess.run("sh", ["-c", "sleep 30 & child=$!; kill -TERM $child; wait $child; echo $?"])
        #expect(result.stdoutText == "143\n")
    }

    @Test func selfKilledChildReportsTheSignal() throws {
        #expect(try Subprocess.run("sh", ["-c", "kill -TERM $$"]).status == 128 + 15)
    }

    @Test func daemonDoesNotHoldOutputOpen() throws {
        let start = Date()
        let result = try Subprocess.run("sh", ["-c", "sleep 5 & echo started"], captureOutput: false)
        #expect(result.status == 0)
        #expect(Date().timeIntervalSince(start) < 4)
    }

    @Test func runsInTheGivenDirectory() throws {
        #expect(try Subprocess.check("pwd", currentDirectory: "/tmp").stdoutText == "/tmp\n")
    }
}

@Suite struct LoopbackPortTests {
    @Test func pairIsFreeAndAdjacent() throws {
        let port = try LoopbackPort.freePair()
        #expect(port > 0 && port < 65535)
        // Both ports can really be listened on.
        let result = try Subprocess.run("python3", ["-c", """
            import socket
            for p in (\(port), \(port + 1)):
                s = socket.socket(); s.bind(("127.0.0.1", p)); s.listen(); s.close()
            print("ok")
            """])
        #expect(result.stdoutText == "ok\n")
    }
}
