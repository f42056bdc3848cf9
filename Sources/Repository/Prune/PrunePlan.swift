import Foundation
import Support

/// `prune/<id>`: packs one prune run condemned. They are out of the index from then on, and the first prune
/// run at least the grace period later deletes those that no set needs (docs/repository-format.md, Prune).
struct PrunePlan: Codable, Sendable {
    var version = 1
    /// The condemning run's clock; informational (age is taken from the storage's time of the object).
    var created: Date
    var packs: [Pack]

    struct Pack: Codable, Sendable {
        var id: BlobID
        var size: Int
    }
}

/// A plan as stored, with its name and when it landed.
struct StoredPrunePlan: Sendable {
    var name: String
    var landed: Date
    var plan: PrunePlan
}

extension Repository {
    /// Every pending prune plan. A plan that does not decrypt is an error: its packs could not be told apart.
    func prunePlans() async throws -> [StoredPrunePlan] {
        var out: [StoredPrunePlan] = []
        for object in try await backend.list(prefix: "prune/") {
            let plan = try JSONFormat.decoder().decode(PrunePlan.self, from: try await loadObject(object.name, kind: "prune"))
            out.append(StoredPrunePlan(name: object.name, landed: object.modified ?? plan.created, plan: plan))
        }
        return out
    }

    /// Packs condemned by a pending plan, which a writer must not adopt; nil when a plan cannot be read.
    func condemnedPacks() async throws -> Set<BlobID>? {
        do {
            return Set(try await prunePlans().flatMap { $0.plan.packs.map(\.id) })
        } catch let error as BackendError {
            throw error
        } catch {
            return nil
        }
    }
}
