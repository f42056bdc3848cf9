import Foundation
import Support

/// The head of one catalog's event chain as written into the repository (`chains/<chain>/head`).
public struct RepositoryChainHead: Sendable, Codable, Equatable {
    /// The chain id: the lowercase UUID of the chain's first event.
    public var chain: String
    /// The host whose catalog keeps the chain.
    public var host: String
    public var seq: Int64
    /// Hex SHA-256 of event `seq`.
    public var hash: String
    public var written: Date

    public init(chain: String, host: String, seq: Int64, hash: String, written: Date) {
        self.chain = chain; self.host = host; self.seq = seq; self.hash = hash; self.written = written
    }
}

/// Catalog chains kept in the repository (docs/repository-format.md, Chains). The repository stores segments
/// of events as opaque, encrypted, content-addressed objects and one head per chain; what an event is, is the
/// catalog's business.
extension Repository {
    /// Every chain the repository holds, by id.
    public func chainIDs() async throws -> [String] {
        let names = try await backend.list(prefix: "chains/").map(\.name)
        return Set(names.compactMap { name -> String? in
            let parts = name.split(separator: "/")
            return parts.count >= 3 && Self.isChainID(String(parts[1])) ? String(parts[1]) : nil
        }).sorted()
    }

    /// The chain's head, or nil when none was written yet.
    public func chainHead(_ chain: String) async throws -> RepositoryChainHead? {
        let name = try Self.folder(chain) + "head"
        guard try await backend.size(name) != nil else { return nil }
        let sealed = try await backend.get(name)
        guard let plain = try? key.open(sealed, associatedData: Data("valkyrie chain head v1".utf8)),
              let head = try? JSONFormat.decoder().decode(RepositoryChainHead.self, from: plain), head.chain == chain else {
            throw OperatorError.failed("\(backend.location): \(name) is damaged (it does not authenticate, or names another chain)",
                                       remedy: "run `valkyrie catalog verify` on the host that keeps this chain; its next command writes the head again")
        }
        return head
    }

    /// Replaces the chain's head (the only object under `chains/` that is ever rewritten; one catalog writes it).
    public func writeChainHead(_ head: RepositoryChainHead) async throws {
        let name = try Self.folder(head.chain) + "head"
        try await backend.put(name, try seal(JSONFormat.encoder().encode(head), kind: "chain head"))
    }

    /// Stores a segment of the chain's events (an opaque encoding), content-addressed: storing the same bytes
    /// again is harmless.
    public func storeChainSegment(_ chain: String, _ plaintext: Data) async throws {
        try await storeObject(plaintext, prefix: try Self.folder(chain) + "events/", kind: "chain events", compressed: true)
    }

    /// Every stored segment of the chain, in no particular order.
    public func chainSegments(_ chain: String) async throws -> [Data] {
        var out: [Data] = []
        for object in try await backend.list(prefix: try Self.folder(chain) + "events/") {
            out.append(try await loadObject(object.name, kind: "chain events", compressed: true))
        }
        return out
    }

    private static func folder(_ chain: String) throws -> String {
        guard isChainID(chain) else {
            throw OperatorError.badInput("\"\(chain)\" is not a chain id", remedy: "give the lowercase UUID that `valkyrie catalog verify` shows")
        }
        return "chains/\(chain)/"
    }

    static func isChainID(_ text: String) -> Bool {
        text.utf8.count == 36 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || $0 == 45 }
    }
}
