import Catalog
import Foundation
import Repository
import Restore

extension GlobalOptions {
    /// A listed set of the catalog and the repository. The repository opens (its key derivation is most of a
    /// small restore) while the catalog opens and the set is looked up; an unknown set fails without waiting for it.
    func openSet(_ reference: String, repository: RepositoryOptions) async throws -> SetSource {
        let global = self
        let opening = Task { try await repository.open(global) }
        do {
            let catalog = try openCatalog()
            let set = try SetSource.listedSet(reference, in: catalog)
            return SetSource(catalog: catalog, repository: try await opening.value, record: set)
        } catch {
            opening.cancel()
            throw error
        }
    }
}

extension HumanFormat {
    /// `20261128T…_host .. 20261129T…_host (12 sets)`, or the one set's name.
    static func spanned(_ sets: [SetRecord]) -> String {
        guard let first = sets.first, let last = sets.last else { return "-" }
        return sets.count == 1 ? first.name : "\(first.name) .. \(last.name) (\(sets.count) sets)"
    }
}
