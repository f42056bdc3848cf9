import Foundation
import Repository
import Synchronization

/// Reads file contents lazily from the repository (chunks through its bounded blob cache) and keeps the next
/// `readAhead` bytes of a file being read in flight, fetched as `parallel` pieces at once.
final class ContentReader: Sendable {
    let repository: Repository
    let readAhead: Int64
    let parallel: Int64

    init(repository: Repository, readAhead: Int = 16 << 20, parallel: Int = 4) {
        self.repository = repository
        self.readAhead = Int64(readAhead)
        self.parallel = Int64(parallel)
    }

    /// How far ahead one open file has been fetched.
    final class Progress: Sendable {
        let fetchedTo = Mutex<Int64>(0)
        init() {}
    }

    func read(_ node: Node, progress: Progress, offset: Int, size: Int) throws -> Data {
        guard Int64(offset) < node.size else { return Data() }
        let repository = self.repository
        let data = try blocking { try await repository.read(node, offset: Int64(offset), length: size) }
        prefetch(node, progress: progress, after: Int64(offset + data.count))
        return data
    }

    /// Starts fetching the next window once the reader is within half a window of what is already fetched.
    private func prefetch(_ node: Node, progress: Progress, after end: Int64) {
        let window = readAhead
        let start: Int64? = progress.fetchedTo.withLock { fetched in
            guard fetched < node.size, end + window / 2 >= fetched else { return nil }
            let start = max(fetched, end)
            fetched = min(node.size, start + window)
            return start
        }
        guard let start else { return }
        let piece = window / parallel, repository = self.repository
        for index in 0..<parallel {
            let offset = start + index * piece
            guard offset < node.size else { break }
            Task.detached(priority: .utility) { _ = try? await repository.read(node, offset: offset, length: Int(piece)) }
        }
    }
}
