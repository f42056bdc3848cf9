// Catalog speed: appends per second (batched and single), and `sets` / `log --set` / `show` query times on a
// catalog of many sets and events. Run with `swift run -c release catalog-bench [--sets N] [--events-per-set M]`
// (`--keep DIR` leaves the catalogs in DIR, e.g. to time `valkyrie sets` on DIR/large.db).
// `catalog-bench append --catalog PATH --count M --host H` is one writer process: the concurrency test and
// the concurrent scenario here start several at once. `catalog-bench queries --catalog DIR/large.db` times the
// queries again on a kept catalog.
import Catalog
import Foundation
import Support

struct Options {
    var sets = 10_000
    var eventsPerSet = 100
    var appends = 100_000
    var batch = 1_000
    var workers = 4
    var workerAppends = 500
    /// Leave the catalogs in this folder (to time `valkyrie sets --catalog DIR/large.db` and the like).
    var keep: String?

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments
        while let flag = rest.popFirst() {
            if flag == "--keep", let folder = rest.popFirst() { keep = folder; continue }
            guard let text = rest.popFirst(), let value = Int(text), value > 0 else {
                throw OperatorError.badInput("\(flag) needs a positive number")
            }
            switch flag {
            case "--sets": sets = value
            case "--events-per-set": eventsPerSet = max(value, 3)
            case "--appends": appends = value
            case "--batch": batch = value
            case "--workers": workers = value
            case "--worker-appends": workerAppends = value
            default: throw OperatorError.badInput("unknown option \(flag)")
            }
        }
    }
}

/// A result line, flushed at once so a long run shows its progress even when piped to a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// CPU time of this process: on a shared machine, events per CPU-second say more than wall time.
func cpuSeconds() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Median wall time of `runs` calls, in milliseconds.
func medianMilliseconds(runs: Int = 15, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<runs { times.append(try seconds(body) * 1000) }
    return times.sorted()[runs / 2]
}

/// Errors of the worker processes, collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ failure: String) { lock.withLock { list.append(failure) } }
    var all: [String] { lock.withLock { list } }
}

func restored(_ set: UUID, _ n: Int) -> FileRestored {
    FileRestored(set: set, item: "var-lib", path: "/var/lib/vaulthalla/users/u\(n % 97)/file\(n).bin",
                 target: "/tmp/restore", size: Int64(n * 512), digest: String(repeating: "ab", count: 32))
}

/// Worker mode: `count` appends, each its own transaction, stamped with `host`.
func appendWorker(_ arguments: ArraySlice<String>) throws {
    var path: String?, count = 0, host = "worker"
    var rest = arguments
    while let flag = rest.popFirst(), let value = rest.popFirst() {
        switch flag {
        case "--catalog": path = value
        case "--count": count = Int(value) ?? 0
        case "--host": host = value
        default: throw OperatorError.badInput("unknown option \(flag)")
        }
    }
    guard let path, count > 0 else { throw OperatorError.badInput("append needs --catalog PATH and --count N") }
    let catalog = try Catalog.open(at: path, mode: .create, origin: EventOrigin(host: host, uid: getuid(), user: "bench"))
    for n in 0..<count {
        try catalog.append(VerifyCompleted(checkedPacks: n, problems: []))
    }
}

func benchmark(_ options: Options) throws {
    let directory = options.keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("catalog-bench-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { if options.keep == nil { try? FileManager.default.removeItem(atPath: directory) } }
    say("catalog-bench: SQLite catalog in \(directory), \(ProcessInfo.processInfo.activeProcessorCount) cores")

    // 1. Appending in batches, and one event per transaction.
    let appendCatalog = try Catalog.open(at: directory + "/append.db", mode: .create)
    let set = try appendCatalog.startSet(host: "bench", valkyrieVersion: "bench", items: ["var-lib"])
    let batchedCPU = cpuSeconds()
    let batched = try seconds {
        var n = 0
        while n < options.appends {
            let count = min(options.batch, options.appends - n)
            try appendCatalog.append((n..<n + count).map { try EventDraft(restored(set.id, $0)) })
            n += count
        }
    }
    say(String(format: "append, batches of %d: %d events in %.2f s = %.0f events/s (%.0f per CPU-second)",
                 options.batch, options.appends, batched, Double(options.appends) / batched,
                 Double(options.appends) / (cpuSeconds() - batchedCPU)))
    let singles = min(2_000, options.appends)
    let single = try seconds { for n in 0..<singles { try appendCatalog.append(restored(set.id, n)) } }
    say(String(format: "append, one per transaction: %d events in %.2f s = %.0f events/s",
                 singles, single, Double(singles) / single))

    // 2. Concurrent writer processes.
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).path
    let concurrentPath = directory + "/concurrent.db"
    _ = try Catalog.open(at: concurrentPath, mode: .create)
    let failures = Failures()
    let concurrent = try seconds {
        DispatchQueue.concurrentPerform(iterations: options.workers) { worker in
            do {
                try Subprocess.check(executable, ["append", "--catalog", concurrentPath,
                                                  "--count", String(options.workerAppends), "--host", "w\(worker)"])
            } catch { failures.add("worker \(worker): \(error)") }
        }
    }
    for failure in failures.all { say("append worker failed: \(failure)") }
    let chain = try Catalog.open(at: concurrentPath).verifyChain()
    say(String(format: "append, %d processes x %d single appends: %.2f s = %.0f events/s, chain %@ with %d events",
                 options.workers, options.workerAppends, concurrent,
                 Double(options.workers * options.workerAppends) / concurrent, chain.ok ? "ok" : "BROKEN", chain.events))

    // 3. A large catalog: sets of several hosts, each with items, exports, a completion and restores.
    let large = try Catalog.open(at: directory + "/large.db", mode: .create)
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    var names: [String] = []
    let fillingCPU = cpuSeconds()
    let filling = try seconds {
        for n in 0..<options.sets {
            let set = try large.startSet(host: "host\(n % 4)", startedAt: start.addingTimeInterval(Double(n) * 60),
                                         valkyrieVersion: "bench", items: ["postgres", "etc", "var-lib"])
            names.append(set.name)
            var drafts = try ["postgres", "etc", "var-lib", "swtpm", "s3", "version"].map {
                try EventDraft(ItemCaptured(set: set.id, item: $0, root: "tree:\(n)", digest: "d\(n)", size: 1 << 20, files: 100))
            }
            drafts.append(try EventDraft(ExportRecorded(set: set.id, export: "vault-keys", recipients: ["FPR"],
                                                        vaults: ["v1", "v2"], digest: "e\(n)", size: 4096)))
            while drafts.count < options.eventsPerSet - 2 { drafts.append(try EventDraft(restored(set.id, drafts.count))) }
            drafts.append(try EventDraft(BackupCompleted(set: set.id)))
            try large.append(drafts)
        }
    }
    let total = try large.head().seq
    say(String(format: "filled %d sets, %lld events in %.1f s (%.0f events/s, %.0f per CPU-second)",
                 options.sets, total, filling, Double(total) / filling, Double(total) / (cpuSeconds() - fillingCPU)))

    try queries(large, names: names, total: total)
}

/// `sets`, `log --set`, `show` and `log --type` timed on a filled catalog.
func queries(_ large: Catalog, names: [String], total: Int64) throws {
    let listing = try medianMilliseconds { _ = try large.sets() }
    say(String(format: "sets (%d listed): %.1f ms", try large.sets().count, listing))
    let name = names[names.count / 2]
    let id = try large.requireSet(name).id
    let log = try medianMilliseconds { _ = try large.events(EventFilter(set: id)) }
    say(String(format: "log --set (%d events of %lld): %.1f ms", try large.events(EventFilter(set: id)).count, total, log))
    let show = try medianMilliseconds { _ = try large.details(of: large.requireSet(name)) }
    say(String(format: "show SET: %.1f ms", show))
    let typed = try medianMilliseconds(runs: 5) { _ = try large.events(EventFilter(type: .backupCompleted, limit: 100)) }
    say(String(format: "log --type backup.completed --limit 100: %.1f ms", typed))
}

/// Query mode: `catalog-bench queries --catalog DIR/large.db` times the queries again on a kept catalog.
func queryWorker(_ arguments: ArraySlice<String>) throws {
    guard arguments.first == "--catalog", let path = arguments.dropFirst().first else {
        throw OperatorError.badInput("queries needs --catalog PATH")
    }
    let large = try Catalog.open(at: path, mode: .reading)
    try queries(large, names: try large.sets().map(\.name), total: try large.head().seq)
}

do {
    let arguments = CommandLine.arguments.dropFirst()
    if arguments.first == "append" {
        try appendWorker(arguments.dropFirst())
    } else if arguments.first == "queries" {
        try queryWorker(arguments.dropFirst())
    } else {
        try benchmark(Options(arguments))
    }
} catch {
    FileHandle.standardError.write(Data("catalog-bench: \(error)\n".utf8))
    exit((error as? OperatorError)?.status.rawValue ?? 1)
}
