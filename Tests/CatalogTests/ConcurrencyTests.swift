import Foundation
import Support
import Testing
@testable import Catalog

/// Several processes appending at once keep one linear chain: no event lost, none duplicated, no fork.
@Suite struct ConcurrencyTests {
    /// The `catalog-bench` executable, built beside the test bundle; its `append` mode is one writer.
    static func writer() throws -> String {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        for directory in candidates {
            let path = directory.appendingPathComponent("catalog-bench").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw OperatorError.failed("catalog-bench is not built next to the tests", remedy: "run swift build --build-tests")
    }

    @Test func processesAppendingAtOnceKeepOneChain() throws {
        let writer = try Self.writer()
        try Fixture.withDirectory { dir in
            let catalog = try Fixture.catalog(dir)
            let processes = 5, appends = 40
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: processes) { worker in
                let result = Result {
                    try Subprocess.run(writer, ["append", "--catalog", catalog.path, "--count", String(appends), "--host", "w\(worker)"])
                }
                results.add(worker, result)
            }
            for (worker, result) in results.all {
                let run = try result.get()
                #expect(run.status == 0, "writer \(worker): \(run.stderrText)")
            }
            let events = try catalog.events()
            #expect(events.count == processes * appends)
            #expect(events.map(\.seq) == Array(1...Int64(processes * appends)))
            #expect(Set(events.map(\.uuid)).count == events.count)
            for worker in 0..<processes {
                let mine = events.filter { $0.host == "w\(worker)" }
                #expect(mine.compactMap { $0.decode(VerifyCompleted.self)?.checkedPacks } == Array(0..<appends))
            }
            let report = try catalog.verifyChain()
            #expect(report.ok, "\(report.problems)")
        }
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [(Int, Result<Subprocess.Result, any Error>)] = []
    func add(_ worker: Int, _ result: Result<Subprocess.Result, any Error>) { lock.withLock { results.append((worker, result)) } }
    var all: [(Int, Result<Subprocess.Result, any Error>)] { lock.withLock { results } }
}
