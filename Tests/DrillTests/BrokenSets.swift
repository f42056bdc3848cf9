import Capture
import Catalog
import Foundation
import GPG
import Repository
import Support
import Vaulthalla

/// Sets derived from the good one through the public Repository and Catalog APIs, each with one thing broken,
/// recorded as a set of their own (host `broken-<what>`).
struct BrokenSets {
    let fixture: DrillFixture

    /// The good set's snapshot and metadata.
    func goodSnapshot() async throws -> (Snapshot, SnapshotMetadata) {
        for stored in try await fixture.repository.snapshots() {
            let metadata = try stored.snapshot.metadata.decode(as: SnapshotMetadata.self)
            if metadata.set == fixture.good.id { return (stored.snapshot, metadata) }
        }
        throw OperatorError.failed("the good set's snapshot is missing")
    }

    /// A new set whose roots are the good set's with `change` applied, committed and recorded in the catalog.
    func derive(_ what: String, version: (inout VersionRecord) -> Void = { _ in },
                change: (SetWriter, inout [String: Snapshot.Root]) async throws -> Void) async throws -> SetRecord {
        let (snapshot, metadata) = try await goodSnapshot()
        let catalog = try fixture.catalog()
        let record = try catalog.startSet(host: "broken-\(what)", valkyrieVersion: metadata.version.valkyrieVersion,
                                          items: snapshot.roots.keys.sorted())
        let writer = try await fixture.repository.beginSet()
        var roots = snapshot.roots
        try await change(writer, &roots)
        try await writer.flush()
        var changed = metadata
        changed.set = record.id
        changed.name = record.name
        changed.host = record.host
        changed.ordinal = record.ordinal
        version(&changed.version)
        _ = try await writer.commit(metadata: try .init(encoding: changed), roots: roots)
        try catalog.append(BackupCompleted(set: record.id, warnings: ["broken on purpose: \(what)"]))
        return try catalog.requireSet(record.id.uuidString)
    }

    /// Tree `id` with the node at `path` replaced by `replace(node)` (removed when it returns nil).
    static func replacing(_ id: BlobID, path: [String], writer: SetWriter, repository: Repository,
                          _ replace: (Node) async throws -> Node?) async throws -> BlobID {
        let tree = try await repository.tree(id)
        var nodes = tree.nodes
        guard let at = nodes.firstIndex(where: { $0.name == path[0] }) else {
            throw OperatorError.failed("\(path.joined(separator: "/")) is not in the tree")
        }
        if path.count == 1 {
            if let node = try await replace(nodes[at]) { nodes[at] = node } else { nodes.remove(at: at) }
        } else {
            guard let subtree = nodes[at].subtree else { throw OperatorError.failed("\(path[0]) is not a folder") }
            nodes[at].subtree = try await replacing(subtree, path: Array(path.dropFirst()), writer: writer, repository: repository, replace)
        }
        return try await writer.storeTree(Tree(nodes: nodes))
    }

    func replacing(_ root: String, _ path: String, in roots: inout [String: Snapshot.Root], writer: SetWriter,
                   _ replace: (Node) async throws -> Node?) async throws {
        guard case let .tree(id)? = roots[root] else { throw OperatorError.failed("no tree root \(root)") }
        roots[root] = .tree(try await Self.replacing(id, path: path.split(separator: "/").map(String.init), writer: writer,
                                                     repository: fixture.repository, replace))
    }

    /// A file node like `node` holding `data`.
    static func withContent(_ node: Node, _ data: Data, writer: SetWriter) async throws -> Node {
        let stored = try await writer.storeFile(data, name: node.name, mode: node.mode)
        var changed = node
        changed.content = stored.content
        changed.size = stored.size
        return changed
    }

    /// One local vault body with a byte of its ciphertext flipped; returns the set and the file's logical path.
    func changedCiphertext() async throws -> (SetRecord, String) {
        let (snapshot, _) = try await goodSnapshot()
        guard case let .file(indexNode)? = snapshot.roots[SetLayout.vaultIndex] else { throw OperatorError.failed("no vault index") }
        let lines = try String(decoding: try await fixture.repository.read(indexNode, offset: 0, length: Int(indexNode.size)), as: UTF8.self)
            .split(separator: "\n").map { try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data($0.utf8)) }
        guard let victim = lines.first(where: { $0.vaultType != "s3" && $0.iv != nil && $0.size > 0 }) else {
            throw OperatorError.failed("the lab host has no encrypted local file")
        }
        let set = try await derive("body") { writer, roots in
            try await replacing(SetLayout.varLib, victim.backingPath, in: &roots, writer: writer) { node in
                var body = try await fixture.repository.read(node, offset: 0, length: Int(node.size))
                body[body.startIndex + body.count / 2] ^= 0x01
                return try await Self.withContent(node, body, writer: writer)
            }
        }
        return (set, victim.path)
    }

    /// Neither `keys/<vault>.json.asc` nor `exports/vault-keys.json.asc` holds the first vault's key.
    func missingKeyExport() async throws -> (SetRecord, String) {
        let gpg = try GPGContext(homeDirectory: DrillFixture.environment["VALKYRIE_TEST_GNUPGHOME"])
        let recipient = try DrillFixture.require("VALKYRIE_TEST_GPG_FPR")
        let (snapshot, metadata) = try await goodSnapshot()
        guard let vault = metadata.version.vaults.first(where: { !$0.deleted }) else { throw OperatorError.failed("no vault") }
        guard let all = try await fixture.repository.node(at: "vault-keys.json.asc", in: snapshot.roots[SetLayout.exports]!) else {
            throw OperatorError.failed("no exports/vault-keys.json.asc")
        }
        let set = try await derive("keys") { writer, roots in
            try await replacing(SetLayout.keys, "\(vault.name).json.asc", in: &roots, writer: writer) { _ in nil }
            try await replacing(SetLayout.exports, "vault-keys.json.asc", in: &roots, writer: writer) { node in
                let exports = try VaultKeyExport.parse(try gpg.decrypt(try await fixture.repository.read(all, offset: 0, length: Int(all.size))))
                let kept = try VaultKeyExport.render(exports.filter { $0.vaultID != vault.id }, single: false, pretty: true)
                return try await Self.withContent(node, try gpg.encrypt(kept, to: [recipient]), writer: writer)
            }
        }
        return (set, vault.name)
    }

    /// The dump taken again without `share_link`.
    func droppedTable() async throws -> SetRecord {
        try await redumped("dump", sql: "DROP TABLE share_link CASCADE")
    }

    /// The dump taken again after another Vaulthalla version's migrations: the latest migration's file changed
    /// (its sha256 pin), and one more applied. The version record still says the good set's version.
    func otherMigrations() async throws -> SetRecord {
        try await redumped("migrations", sql: """
            UPDATE schema_migrations SET sha256 = repeat('0', 64) WHERE filename = (SELECT max(filename) FROM schema_migrations);
            INSERT INTO schema_migrations (filename, sha256) VALUES ('999_newer.sql', repeat('1', 64));
            """)
    }

    /// A set whose dump was restored into the test server, changed by `sql`, and dumped again.
    func redumped(_ what: String, sql: String) async throws -> SetRecord {
        let pgBin = try DrillFixture.require("VALKYRIE_TEST_PGBIN"), host = try DrillFixture.require("VALKYRIE_TEST_PGHOST")
        let port = DrillFixture.environment["VALKYRIE_TEST_PGPORT"] ?? "5432", user = DrillFixture.environment["VALKYRIE_TEST_PGUSER"] ?? "postgres"
        let (snapshot, _) = try await goodSnapshot()
        guard let dumpNode = try await fixture.repository.node(at: "vaulthalla.dump", in: snapshot.roots[SetLayout.postgres]!) else {
            throw OperatorError.failed("no postgres/vaulthalla.dump")
        }
        let work = "\(fixture.folder)/redump-\(what)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try await fixture.repository.read(dumpNode, offset: 0, length: Int(dumpNode.size)).write(to: URL(fileURLWithPath: "\(work)/in.dump"))
        let name = "vkdrop_\(UUID().uuidString.prefix(8).lowercased())"
        let server = "host=\(host) port=\(port) user=\(user)"
        try Subprocess.check("\(pgBin)/createdb", ["-h", host, "-p", port, "-U", user, name])
        defer { _ = try? Subprocess.run("\(pgBin)/dropdb", ["-h", host, "-p", port, "-U", user, "--force", name]) }
        _ = try Subprocess.run("\(pgBin)/pg_restore", ["--no-owner", "--no-privileges", "--dbname=\(server) dbname=\(name)", "\(work)/in.dump"])
        try Subprocess.check("\(pgBin)/psql", ["-d", "\(server) dbname=\(name)", "-v", "ON_ERROR_STOP=1", "-c", sql])
        try Subprocess.check("\(pgBin)/pg_dump", ["-Fc", "-Z0", "-f", "\(work)/out.dump", "-d", "\(server) dbname=\(name)"])
        let dump = try Data(contentsOf: URL(fileURLWithPath: "\(work)/out.dump"))
        return try await derive(what) { writer, roots in
            try await replacing(SetLayout.postgres, "vaulthalla.dump", in: &roots, writer: writer) { node in
                try await Self.withContent(node, dump, writer: writer)
            }
        }
    }

    /// The good set as an older Valkyrie recorded it: no `schemaMigrations` in its version record.
    func withoutMigrationPins() async throws -> SetRecord {
        try await derive("unpinned", version: { $0.schemaMigrations = nil }) { _, _ in }
    }

    /// The swtpm state replaced by an empty folder: a new TPM whose seeds never sealed anything.
    func foreignSwtpmState() async throws -> SetRecord {
        try await derive("swtpm") { writer, roots in
            roots[SetLayout.swtpm] = .tree(try await writer.storeTree(Tree(nodes: [])))
        }
    }
}
