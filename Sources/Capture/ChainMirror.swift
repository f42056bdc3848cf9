import Catalog
import Foundation
import Repository
import Support

/// Keeps a copy of the catalog's event chain in the repository (docs/repository-format.md, Chains): segments of
/// events the repository lacks, then the chain's head. Run after every command that appends; idempotent, so an
/// interrupted run is repaired by the next. Each catalog writes only its own chain, so two hosts on one
/// repository never touch each other's objects.
public enum ChainMirror {
    /// Events per segment object: bounded objects whatever the backlog.
    static let segmentSize = 1000

    /// An upload refused because catalog and repository disagree (a rollback, a rewritten chain): an integrity
    /// problem, unlike a repository that cannot be written for now.
    public struct Refusal: Error {
        public var comparison: ChainComparison
        public var error: OperatorError
    }

    /// What an upload did.
    public struct Upload: Codable, Sendable, Equatable {
        public var chain: String
        public var uploaded: Int
        public var head: Int64
    }

    /// Whether the catalog has events the repository has not confirmed (a local check, no network).
    public static func isPending(_ catalog: Catalog, repository: Repository) throws -> Bool {
        guard let chain = try catalog.chainID() else { return false }
        guard let confirmed = try catalog.confirmedHead(in: repository.config.id), confirmed.chain == chain else { return true }
        return confirmed.seq < (try catalog.head()).seq
    }

    /// Writes the events after the repository's head, then the new head, and records the confirmation in the
    /// catalog. Refused, writing nothing, when the repository's head is not a prefix of the catalog's chain
    /// (one of them was rewritten) or is behind what it confirmed before (a possible rollback) unless
    /// `acceptRollback`. Returns nil for an empty catalog.
    @discardableResult
    public static func upload(_ catalog: Catalog, to repository: Repository, acceptRollback: Bool = false) async throws -> Upload? {
        guard let chain = try catalog.chainID() else { return nil }
        // One upload at a time per catalog: two commands racing could otherwise move the head backwards.
        let lock = try await ChainLock.acquire(catalog.path)
        defer { lock.release() }
        let head = try catalog.head()
        let comparison = try await compare(catalog, with: repository)
        switch comparison.state {
        case .same:
            try catalog.confirm(head.seq, in: repository.config.id)
            return Upload(chain: chain, uploaded: 0, head: head.seq)
        case .pending, .missing:
            break
        case .rollback where acceptRollback:
            break
        default:
            throw Refusal(comparison: comparison, error: OperatorError.failed("\(repository.backend.location): \(comparison.problem ?? comparison.state.rawValue)",
                                       remedy: comparison.state == .rollback
                                           ? "check the repository (`valkyrie verify`); once it is trusted again, `valkyrie catalog verify --repair` writes the catalog's events into it"
                                           : "run `valkyrie catalog verify` to see which of the two was rewritten; if it is the catalog, `valkyrie catalog rebuild --from-repository --force` makes it again from the repository (the old file is kept)"))
        }
        // A segment at a time, so a long backlog (a catalog older than this feature) is never all in memory.
        var last: ChainEvent?, uploaded = 0
        while true {
            let events = try catalog.chainEvents(after: last?.seq ?? comparison.repositoryHead?.seq ?? 0, limit: segmentSize)
            guard !events.isEmpty else { break }
            try await repository.storeChainSegment(chain, try JSONFormat.encoder().encode(ChainSegment(chain: chain, events: events)))
            last = events.last
            uploaded += events.count
        }
        guard let last else { return Upload(chain: chain, uploaded: 0, head: head.seq) }
        try await repository.writeChainHead(RepositoryChainHead(chain: chain, host: last.host, seq: last.seq,
                                                                hash: last.hash.hexString, written: Date()))
        try catalog.confirm(last.seq, in: repository.config.id)
        return Upload(chain: chain, uploaded: uploaded, head: last.seq)
    }

    /// Compares the catalog's chain with its head in the repository. With `deep`, a head that does not match is
    /// explained by reading the repository's copy back and naming the first event that differs.
    public static func compare(_ catalog: Catalog, with repository: Repository, deep: Bool = false) async throws -> ChainComparison {
        let head = try catalog.head()
        let confirmed = try catalog.confirmedHead(in: repository.config.id)
        var result = ChainComparison(repository: repository.backend.location, chain: try catalog.chainID(), catalogHead: head,
                                     repositoryHead: nil, confirmed: confirmed, state: .same, problem: nil)
        guard let chain = result.chain else {
            result.state = .empty
            return result
        }
        let confirmedSeq = confirmed.flatMap { $0.chain == chain ? $0.seq : nil }
        guard let stored = try await repository.chainHead(chain) else {
            if let confirmedSeq {
                result.state = .rollback
                result.problem = "the repository has no head for this catalog's chain, though it held event \(confirmedSeq) before: possible rollback of the repository"
            } else {
                result.state = .missing
                result.problem = "the repository holds none of this catalog's \(head.seq) events yet; the next command that records writes them"
            }
            return result
        }
        result.repositoryHead = stored
        let ours = try catalog.chainEvent(stored.seq)
        if stored.seq > head.seq {
            result.state = .ahead
            result.problem = "the repository's head is event \(stored.seq), the catalog ends at \(head.seq): the catalog lost events (replaced by an older copy?)"
        } else if ours?.hash.hexString != stored.hash {
            result.state = .diverged
            result.problem = "event \(stored.seq) differs from the repository's copy: the catalog's rows were rewritten and re-chained"
            if deep, let first = try await firstDifference(catalog, repository: repository, chain: chain, upTo: stored.seq) {
                result.problem = "event \(first) differs from the repository's copy (and every event after it, up to its head \(stored.seq)): the catalog's rows were rewritten and re-chained"
            }
        } else if let confirmedSeq, stored.seq < confirmedSeq {
            result.state = .rollback
            result.problem = "the repository's head is event \(stored.seq), but it held event \(confirmedSeq) before: possible rollback of the repository"
        } else if stored.seq < head.seq {
            result.state = .pending
            result.problem = "events \(stored.seq + 1)...\(head.seq) are not in the repository yet (a command was interrupted); the next command that records writes them"
        }
        return result
    }

    /// Every event of `chain` the repository holds, from 1 on, each checked against the one before; throws when
    /// the copy is damaged, has a gap before its head, or holds two different events under one number.
    public static func read(_ chain: String, from repository: Repository) async throws -> (head: RepositoryChainHead?, events: [ChainEvent]) {
        let head = try await repository.chainHead(chain)
        var bySeq: [Int64: ChainEvent] = [:]
        for data in try await repository.chainSegments(chain) {
            let segment = try JSONFormat.decoder().decode(ChainSegment.self, from: data)
            guard segment.chain == chain else {
                throw OperatorError.failed("\(repository.backend.location): a segment of chain \(chain) names chain \(segment.chain)",
                                           remedy: "run `valkyrie verify`; the repository was tampered with")
            }
            for event in segment.events {
                if let known = bySeq[event.seq], known != event {
                    throw OperatorError.failed("\(repository.backend.location): chain \(chain) holds two different events \(event.seq)",
                                               remedy: "the catalog of host \(event.host) was rewritten between uploads; run `valkyrie catalog verify` there")
                }
                bySeq[event.seq] = event
            }
        }
        var events: [ChainEvent] = []
        while let next = bySeq[Int64(events.count) + 1] { events.append(next) }
        if let head, Int64(events.count) < head.seq {
            throw OperatorError.failed("\(repository.backend.location): chain \(chain) lacks event \(events.count + 1) of its \(head.seq)",
                                       remedy: "run `valkyrie verify`; chains/ is never pruned, so its objects were removed by hand")
        }
        if let problem = ChainEvent.problem(in: events) {
            throw OperatorError.failed("\(repository.backend.location): chain \(chain): \(problem)",
                                       remedy: "run `valkyrie verify`; the repository's copy was tampered with")
        }
        if let head, events[Int(head.seq) - 1].hash.hexString != head.hash {
            throw OperatorError.failed("\(repository.backend.location): chain \(chain)'s head does not match its event \(head.seq)",
                                       remedy: "run `valkyrie catalog verify` on host \(head.host)")
        }
        return (head, events)
    }

    private static func firstDifference(_ catalog: Catalog, repository: Repository, chain: String, upTo seq: Int64) async throws -> Int64? {
        guard let copy = try? await read(chain, from: repository).events else { return nil }
        let ours = try catalog.chainEvents(after: 0)
        return copy.prefix(Int(seq)).first { event in
            Int(event.seq) > ours.count || ours[Int(event.seq) - 1] != event
        }?.seq
    }
}

/// How the catalog's chain stands against its copy in the repository.
public struct ChainComparison: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// The repository holds the whole chain.
        case same
        /// The catalog has no events.
        case empty
        /// The repository has none of the chain yet (it never confirmed any).
        case missing
        /// The repository lags behind (an interrupted command); the next command catches up.
        case pending
        /// The repository's head is behind what it confirmed before.
        case rollback
        /// The repository's head is past the catalog's end.
        case ahead
        /// The event at the repository's head differs from the catalog's.
        case diverged

        /// Whether this is a problem to fail on (not only something the next command catches up).
        public var isProblem: Bool { [.rollback, .ahead, .diverged].contains(self) }
    }
    /// Where the repository is.
    public var repository: String
    public var chain: String?
    public var catalogHead: ChainHead
    public var repositoryHead: RepositoryChainHead?
    public var confirmed: ConfirmedHead?
    public var state: State
    public var problem: String?
}

/// A segment object's plaintext: consecutive events of one chain.
struct ChainSegment: Codable {
    var chain: String
    var events: [ChainEvent]
}

/// An exclusive advisory lock on `<catalog>.chain-lock`, held while one upload runs (in this or another process).
struct ChainLock {
    let handle: FileHandle

    /// Waits for the lock without blocking a thread of the cooperative pool (the holder may need one to finish).
    static func acquire(_ catalogPath: String) async throws -> ChainLock {
        let path = catalogPath + ".chain-lock"
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw OperatorError.failed("cannot open \(path)", remedy: "make the catalog's folder writable")
        }
        while flock(handle.fileDescriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                try? handle.close()
                throw OperatorError.failed("cannot lock \(path)", remedy: "check the catalog's folder")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return ChainLock(handle: handle)
    }

    func release() {
        flock(handle.fileDescriptor, LOCK_UN)
        try? handle.close()
    }
}
