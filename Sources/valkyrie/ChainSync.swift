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

    /// Uploads what is missing; nil when nothing needed it or it worked, else the problem to report.
    static func finish() async -> OperatorError? {
        let (catalog, repository) = opened.withLock { ($0.catalog, $0.repository) }
        guard let catalog, let repository else { return nil }
        do {
            guard try ChainMirror.isPending(catalog, repository: repository) else { return nil }
            try await ChainMirror.upload(catalog, to: repository)
            return nil
        } catch {
            let problem = (error as? OperatorError) ?? OperatorError.failed("\(error)")
            return OperatorError.failed("the catalog's events were recorded, but not written into the repository: \(problem.problem)",
                                        remedy: problem.remedy ?? "the next valkyrie command that opens the repository writes them")
        }
    }
}
