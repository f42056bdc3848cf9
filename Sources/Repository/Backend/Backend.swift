import Foundation

/// Where a repository's objects live: a local folder or an S3-compatible bucket. The rest of the repository
/// code never knows which one it has.
///
/// Names are relative, `/`-separated (`config`, `keys/<id>`, `data/ab/<id>`, ...). Writers only ever create
/// objects; an existing name is never rewritten while another writer may read it, so `put` of a name that
/// exists is either a no-op for identical content or an error the caller chose to allow.
public protocol Backend: Sendable {
    /// Where this backend points, for messages (`/var/backups/valkyrie`, `s3://bucket/prefix`).
    var location: String { get }

    /// Stores `data` under `name` atomically: readers see all of it or nothing.
    func put(_ name: String, _ data: Data) async throws

    /// The whole object. Throws `BackendError.notFound` if it does not exist.
    func get(_ name: String) async throws -> Data

    /// `length` bytes from `offset`. Throws `BackendError.notFound` if the object does not exist.
    func get(_ name: String, offset: Int, length: Int) async throws -> Data

    /// The object's size, or nil if it does not exist.
    func size(_ name: String) async throws -> Int?

    /// Every object whose name starts with `prefix`, in no particular order.
    func list(prefix: String) async throws -> [BackendObject]

    /// Removes the object; removing a missing object is not an error.
    func delete(_ name: String) async throws
}

public struct BackendObject: Sendable, Equatable, Hashable {
    public var name: String
    public var size: Int
    /// When the object landed, by the storage's own clock (S3's LastModified, the file's mtime): forget and
    /// prune order and age objects by it rather than by times the writing client put inside them.
    public var modified: Date?

    public init(name: String, size: Int, modified: Date? = nil) {
        self.name = name
        self.size = size
        self.modified = modified
    }
}

public enum BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The object does not exist.
    case notFound(location: String, name: String)
    /// The backend cannot be reached or refused the request; `detail` says how (never credentials).
    case unavailable(location: String, detail: String)

    public var description: String {
        switch self {
        case let .notFound(location, name): "\(location): object \(name) does not exist"
        case let .unavailable(location, detail): "\(location): \(detail)"
        }
    }
}
