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
