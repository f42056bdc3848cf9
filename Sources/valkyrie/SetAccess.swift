import Catalog
import Foundation
import Repository
import Restore

extension GlobalOptions {
    /// A listed set of the catalog, checked before the repository is opened (an unknown set fails fast).
    func openSet(_ reference: String, repository: RepositoryOptions) async throws -> SetSource {
        let catalog = try openCatalog()
        let set = try SetSource.listedSet(reference, in: catalog)
        return SetSource(catalog: catalog, repository: try await repository.open(self), record: set)
    }
}

extension HumanFormat {
    /// `20261128T…_host .. 20261129T…_host (12 sets)`, or the one set's name.
    static func spanned(_ sets: [SetRecord]) -> String {
        guard let first = sets.first, let last = sets.last else { return "-" }
        return sets.count == 1 ? first.name : "\(first.name) .. \(last.name) (\(sets.count) sets)"
    }
}
