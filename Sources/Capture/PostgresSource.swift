import Crypto
import Foundation
import Repository
import Support
import Synchronization

/// The `postgres` root: `vaulthalla.dump` streamed from `pg_dump` into the repository (never to disk), and
/// `vaulthalla.toc.txt`, `pg_restore --list` of the dump's head.
///
/// A day's dump shares most rows with the last one, but the rows that changed lie everywhere, so no chunk of the
/// two dedupes: it is stored as a patch on the previous set's dump where that pays (`SetWriter.storeStream(_:patchingOn:)`).
struct PostgresSource {
    let snapshot: DatabaseSnapshot
    let writer: SetWriter
    let children: ChildProcesses
    let progress: CaptureProgress
    /// The previous set's dump, if the repository still holds its data.
    var previousDump: Node? = nil
    /// pg_dump's table of contents sits at the start of a custom-format dump; this much of it is kept for the listing.
    static let headBytes = 8 << 20
    static let dumpName = "vaulthalla.dump"

    func capture() async throws -> CapturedItem {
        let started = Date()
        let dump = try snapshot.startDump()
        children.add(dump)
        defer { children.remove(dump) }
        let pipe = Pipe()
        let tee = DumpTee()
        // Copied on a thread of its own, so pg_dump never waits on the repository's task scheduling.
        let copier = Thread { [progress] in
            defer { try? pipe.fileHandleForWriting.close() }
            while let chunk = try? dump.output.read(upToCount: 1 << 20), !chunk.isEmpty {
                tee.add(chunk)
                progress.add(bytes: Int64(chunk.count))
                do { try pipe.fileHandleForWriting.write(contentsOf: chunk) } catch { break }
            }
        }
        copier.start()
        let node: Node
        do {
            node = try await writer.storeStream(pipe.fileHandleForReading, patchingOn: previousDump, name: Self.dumpName,
                                                mode: 0o600, mtime: started)
        } catch {
            dump.signal(SIGTERM)
            _ = dump.wait()
            throw error
        }
        let (status, stderr) = dump.wait()
        guard status == 0 else {
            let line = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
            throw OperatorError.failed("pg_dump of \(Conninfo.describe(snapshot.settings.conninfo)) failed: \(line)",
                                       remedy: "check that the database is reachable and the role may read every table")
        }
        let listing = try Subprocess.run(snapshot.tool("pg_restore"), ["--list"], input: tee.head)
        guard listing.status == 0 else {
            throw OperatorError.failed("pg_restore --list cannot read the dump: \(listing.stderrSummary)",
                                       remedy: "use pg_dump and pg_restore of the same PostgreSQL version")
        }
        let toc = try await writer.storeFile(listing.stdout, name: "vaulthalla.toc.txt", mode: 0o644, mtime: started)
        let tree = try await writer.storeTree(Tree(nodes: [node, toc]))
        var item = CapturedItem(root: SetLayout.postgres, value: .tree(tree), files: 2, bytes: node.size + toc.size, started: started)
        item.digest = tee.digest
        return item
    }
}

/// What the copier keeps of the dump: its head (for the listing) and its SHA-256.
private final class DumpTee: Sendable {
    private struct State {
        var head = Data()
        var hash = SHA256()
    }
    private let state = Mutex(State())

    func add(_ chunk: Data) {
        state.withLock { state in
            if state.head.count < PostgresSource.headBytes { state.head.append(chunk.prefix(PostgresSource.headBytes - state.head.count)) }
            state.hash.update(data: chunk)
        }
    }

    var head: Data { state.withLock { $0.head } }
    var digest: String { "sha256:" + Data(state.withLock { $0.hash.finalize() }).hexString }
}

/// Children a capture has running, so an interrupted backup can stop them before it leaves.
public final class ChildProcesses: Sendable {
    private let running = Mutex([pid_t: RunningProcess]())

    public init() {}

    func add(_ process: RunningProcess) { running.withLock { $0[process.pid] = process } }
    func remove(_ process: RunningProcess) { _ = running.withLock { $0.removeValue(forKey: process.pid) } }

    /// Sends SIGTERM to every child still running.
    public func terminateAll() {
        for process in running.withLock({ Array($0.values) }) { process.signal(SIGTERM) }
    }
}
