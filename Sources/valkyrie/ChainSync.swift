import Capture
import Catalog
import Foundation
import Repository
import Support
import Synchronization

/// The catalog and repository this command opened. When the command ends, `Main` writes the events the
/// repository lacks (this command's, and any an interrupted command left) into it with the chain head.
enum ChainSync {
    private static let opened = Mutex<(catalog: Catalog?, repository: Repository?)>((nil, nil))

    static func opened(_ catalog: Catalog) { opened.withLock { $0.catalog = catalog } }
    static func opened(_ repository: Repository) { opened.withLock { $0.repository = repository } }

    /// Uploads what is missing. Nil when nothing needed it or it worked; else how to end: a refusal (rollback,
    /// rewritten chain) fails the command, a repository that cannot be written for now is a warning (the next
    /// command retries), so the command's own work still counts.
    static func finish() async -> (status: ExitStatus, error: OperatorError)? {
        let (catalog, repository) = opened.withLock { ($0.catalog, $0.repository) }
        // However the command ends (a WAL left full made the next `find` after a run of backups re-read it).
        defer { catalog?.checkpointWhenDone() }
        guard let catalog, let repository else { return nil }
        do {
            guard try ChainMirror.isPending(catalog, repository: repository) else { return nil }
            try await ChainMirror.upload(catalog, to: repository)
            return nil
        } catch let refusal as ChainMirror.Refusal {
            return (.failed, OperatorError.failed("the catalog's events were recorded, but not written into the repository: \(refusal.error.problem)",
                                                  remedy: refusal.error.remedy))
        } catch {
            let problem = (error as? OperatorError)?.problem ?? "\(error)"
            return (.partial, OperatorError.failed("warning: the catalog's events were recorded, but not yet written into the repository: \(problem)",
                                                   remedy: "the next valkyrie command that opens the repository writes them"))
        }
    }

    /// Says the problem on stderr (stdout holds the command's result) and returns the exit status to use.
    static func report(_ outcome: (status: ExitStatus, error: OperatorError), after status: ExitStatus) -> ExitStatus {
        let line = outcome.error.remedy.map { "\(outcome.error.problem); \($0)" } ?? outcome.error.problem
        FileHandle.standardError.write(Data("valkyrie: \(line)\n".utf8))
        return outcome.status.severity > status.severity ? outcome.status : status
    }
}

extension ExitStatus {
    /// ok < partial < failed (usage errors stop before anything is recorded).
    fileprivate var severity: Int {
        switch self {
        case .ok: 0
        case .partial: 1
        default: 2
        }
    }
}
