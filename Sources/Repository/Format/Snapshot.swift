import Foundation
import Support

/// A stored set: the caller's metadata and its named roots. What the metadata means is the caller's business.
public struct Snapshot: Sendable, Codable, Equatable {
    public var version = 1
    public var time: Date
    public var metadata: JSONValue
    public var roots: [String: Root]

    public init(time: Date, metadata: JSONValue, roots: [String: Root]) {
        self.time = time
        self.metadata = metadata
        self.roots = roots
    }

    /// An item of a set: a directory tree, or a single file (such as a database dump read from a stream).
    public enum Root: Sendable, Codable, Equatable {
        case tree(BlobID)
        case file(Node)

        enum CodingKeys: String, CodingKey { case tree, file }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let tree = try container.decodeIfPresent(BlobID.self, forKey: .tree) {
                self = .tree(tree)
            } else {
                self = .file(try container.decode(Node.self, forKey: .file))
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case let .tree(id): try container.encode(id, forKey: .tree)
            case let .file(node): try container.encode(node, forKey: .file)
            }
        }
    }
}

/// A snapshot with the id it is stored under.
public struct StoredSnapshot: Sendable, Equatable {
    public var id: BlobID
    public var snapshot: Snapshot
}
