import Foundation
import Repository

/// A catalog set's snapshot in the repository, and when the storage saw it land.
public struct SetSnapshot: Sendable {
    public var id: BlobID
    public var landed: Date?
}

/// Which snapshot holds which set: a backup names its set in the snapshot's metadata (`set`). Snapshots
/// written by other tools or without that field belong to no set of this catalog and are left alone.
public enum SetSnapshots {
    public static func map(_ repository: Repository) async throws -> [UUID: SetSnapshot] {
        var out: [UUID: SetSnapshot] = [:]
        for (stored, landed) in try await repository.landedSnapshots() {
            guard let tag = try? stored.snapshot.metadata.decode(as: SetTag.self) else { continue }
            out[tag.set] = SetSnapshot(id: stored.id, landed: landed)
        }
        return out
    }

    private struct SetTag: Decodable { var set: UUID }
}
