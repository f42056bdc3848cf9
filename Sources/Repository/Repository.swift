import Foundation
import Support
import Synchronization
import Zstd

/// An open repository: its backend, master key, configuration and the index of every blob.
///
/// Reading is safe from any number of tasks; writing goes through `SetWriter` (`beginSet()`).
public final class Repository: Sendable {
    public let backend: any Backend
    public let config: RepositoryConfig
    let key: MasterKey
    let chunker: Chunker
    let index = Mutex(BlobIndex())
    /// Index files already loaded, so `refreshIndex` reads only new ones.
    private let loadedIndexFiles = Mutex(Set<String>())
    /// Recently read blobs; a blob over a quarter of the cache is not kept.
    let cache: SizeBoundedCache<BlobID>
    /// The last patch node's file rebuilt, by its data blobs (the mount reads a file piece by piece).
    let lastPatched = Mutex<(blobs: [BlobID], file: Data)?>(nil)

    init(backend: any Backend, key: MasterKey, config: RepositoryConfig, cacheBytes: Int) {
        self.backend = backend
        self.key = key
        self.config = config
        self.chunker = Chunker(key: key.chunker, parameters: config.chunker)
        self.cache = SizeBoundedCache(capacity: cacheBytes, largestEntry: cacheBytes / 4)
    }

    /// Creates a repository on an empty backend with its first key slot, which must be portable.
    /// `version` other than the current one is for tests of older repositories.
    public static func initialize(backend: any Backend, slot: NewKeySlot, label: String, cacheBytes: Int = 64 << 20,
                                  version: Int = RepositoryConfig.currentVersion) async throws -> Repository {
        guard try await backend.size("config") == nil else {
            throw OperatorError.badInput("\(backend.location) already holds a repository",
                                         remedy: "use it, or choose an empty location")
        }
        guard slot.kind.isPortable else { throw KeyRing.hostBoundOnly(backend.location, slot.kind) }
        let key = MasterKey.generate()
        let config = RepositoryConfig(version: version, id: BlobID.sha256(Data(UUID().uuidString.utf8)).hex,
                                      created: Date(), chunker: .standard)
        let repository = Repository(backend: backend, key: key, config: config, cacheBytes: cacheBytes)
        // The slot lands before the config: a config without any slot would be an unopenable repository.
        try await repository.store(slot: slot.make(for: key, label: label))
        try await backend.put("config", try repository.seal(JSONFormat.encoder().encode(config), kind: "config"))
        return repository
    }

    /// Opens a repository with the first slot that `unlock` opens, then loads the index. The index files, which
    /// need no key to be listed and read, are read while the key is derived (a passphrase slot's argon2id is most
    /// of opening); only once the slots are read, so that the derivation starts as early as before.
    public static func open(backend: any Backend, unlock: [Unlock], cacheBytes: Int = 64 << 20) async throws -> Repository {
        guard try await backend.size("config") != nil else {
            throw OperatorError.badInput("\(backend.location) is not a Valkyrie repository (no config)",
                                         remedy: "check --repo, or create one with `valkyrie init`")
        }
        let sealed = try await backend.get("config")
        let slots = try await KeyRing.slots(backend: backend)
        let indexFiles = Task { try await readIndexFiles(backend, skipping: []) }
        let key: MasterKey, config: RepositoryConfig
        do {
            let configAD = Data("valkyrie config v1".utf8)
            key = try KeyRing.openMasterKey(slots: slots, location: backend.location, unlock: unlock) { key in
                (try? key.open(sealed, associatedData: configAD)) != nil
            }
            let plain = try key.open(sealed, associatedData: configAD)
            config = try JSONFormat.decoder().decode(RepositoryConfig.self, from: plain)
            guard RepositoryConfig.supportedVersions.contains(config.version) else {
                throw OperatorError.failed("\(backend.location): repository format version \(config.version) is not supported",
                                           remedy: "use a newer Valkyrie")
            }
        } catch {
            indexFiles.cancel()
            throw error
        }
        let repository = Repository(backend: backend, key: key, config: config, cacheBytes: cacheBytes)
        repository.load(try await indexFiles.value)
        return repository
    }

    /// Loads index files that appeared since the last load (another writer's work). A damaged index file is
    /// skipped: its packs then count as unindexed, so the next writer re-indexes them from their headers, and
    /// verify reports it.
    public func refreshIndex() async throws {
        load(try await Self.readIndexFiles(backend, skipping: indexFiles))
    }

    /// The index files not in `loaded`, as stored (read, not yet checked or decrypted).
    private static func readIndexFiles(_ backend: any Backend, skipping loaded: Set<String>) async throws -> [(name: String, sealed: Data)] {
        var files: [(name: String, sealed: Data)] = []
        for name in try await backend.list(prefix: "index/").map(\.name) where !loaded.contains(name) {
            try Task.checkCancellation()
            files.append((name, try await backend.get(name)))
        }
        return files
    }

    /// Adds read index files to the index, each checked against its name and decrypted; damaged ones are skipped.
    private func load(_ files: [(name: String, sealed: Data)]) {
        let loaded = indexFiles
        for file in files where !loaded.contains(file.name) {
            guard let packs = try? IndexFile.decode(openObject(file.sealed, name: file.name, kind: "index", compressed: true)) else { continue }
            index.withLock { index in for pack in packs { index.add(pack: pack.id, entries: pack.entries) } }
            _ = loadedIndexFiles.withLock { $0.insert(file.name) }
        }
    }

    /// Forgets the loaded index and reads it again (after a prune rewrote it and deleted packs).
    func reloadIndex() async throws {
        index.withLock { $0 = BlobIndex() }
        loadedIndexFiles.withLock { $0 = [] }
        cache.removeAll()
        try await refreshIndex()
    }

    /// A reader over this index plus packs no index names (`name: size`, read by their headers); this
    /// repository's own index is left as it is, so no writer of it reuses their blobs.
    func including(packs: [String: Int]) async throws -> Repository {
        let view = Repository(backend: backend, key: key, config: config, cacheBytes: 16 << 20)
        let current = index.withLock { $0 }
        view.index.withLock { $0 = current }
        for (name, size) in packs {
            guard let id = PackFormat.id(name),
                  let entries = try? await PackFormat.readEntries(pack: name, size: size, backend: backend, key: key) else { continue }
            view.index.withLock { $0.add(pack: id, entries: entries) }
        }
        return view
    }

    /// Index file names loaded so far.
    var indexFiles: Set<String> { loadedIndexFiles.withLock { $0 } }

    /// The number of blobs in the index.
    public var blobCount: Int { index.withLock { $0.blobCount } }

    /// Whether the index holds blob `id`.
    public func contains(_ id: BlobID) -> Bool { index.withLock { $0.location(id) != nil } }

    // MARK: Objects (config, index, snapshots, verify markers)

    func seal(_ plaintext: Data, kind: String) throws -> Data {
        try key.seal(plaintext, associatedData: Data("valkyrie \(kind) v1".utf8))
    }

    /// Stores an encrypted object under `prefix` + the SHA-256 of its bytes; returns that id.
    @discardableResult
    func storeObject(_ plaintext: Data, prefix: String, kind: String, compressed: Bool = false) async throws -> BlobID {
        let body = compressed ? try Zstd.compress(plaintext) : plaintext
        let sealed = try seal(body, kind: kind)
        let id = BlobID.sha256(sealed)
        try await backend.put(prefix + id.hex, sealed)
        return id
    }

    /// Reads an object, checks it against its name and decrypts it.
    func loadObject(_ name: String, kind: String, compressed: Bool = false) async throws -> Data {
        try openObject(try await backend.get(name), name: name, kind: kind, compressed: compressed)
    }

    /// Checks an object read from `name` against that name and decrypts it.
    func openObject(_ sealed: Data, name: String, kind: String, compressed: Bool = false) throws -> Data {
        let expected = name.split(separator: "/").last.map(String.init) ?? ""
        guard BlobID.sha256(sealed).hex == expected,
              let plain = try? key.open(sealed, associatedData: Data("valkyrie \(kind) v1".utf8)) else {
            throw OperatorError.failed("\(backend.location): \(name) is damaged (its content does not match its name or does not authenticate)",
                                       remedy: "run `valkyrie verify` to see what it affects")
        }
        return compressed ? try Zstd.decompress(plain, limit: 1 << 30) : plain
    }

    // MARK: Blobs

    /// The plaintext of blob `id`, authenticated and checked against its id. Cached unless `caching` is false
    /// (for blobs read once, which would only push out those read again).
    public func blob(_ id: BlobID, caching: Bool = true) async throws -> Data {
        if let cached = cache[id] { return cached }
        guard let location = index.withLock({ index in index.location(id).map { ($0, index.pack($0.pack)) } }) else {
            throw OperatorError.failed("\(backend.location): blob \(id.short) is not in the index",
                                       remedy: "run `valkyrie verify` to see which sets and files it affects")
        }
        let stored = try await backend.get(PackFormat.name(location.1), offset: Int(location.0.offset),
                                           length: Int(location.0.storedLength))
        let plain = try decodeBlob(stored, id: id, location: location.0, pack: location.1)
        if caching { cache.insert(plain, for: id) }
        return plain
    }

    /// Decrypts, decompresses and checks one stored blob.
    func decodeBlob(_ stored: Data, id: BlobID, location: BlobLocation, pack: BlobID) throws -> Data {
        let entry = PackEntry(type: location.type, compressed: location.compressed, storedLength: location.storedLength,
                              rawLength: location.rawLength, offset: location.offset, id: id)
        do {
            let bytes = try key.open(stored, associatedData: entry.associatedData)
            let plain = try BlobCompression.unpack(bytes, compressed: entry.compressed, rawLength: Int(entry.rawLength))
            guard plain.count == Int(entry.rawLength), key.blobID(plain) == id else { throw SealingError.authenticationFailed }
            return plain
        } catch {
            throw OperatorError.failed("\(backend.location): blob \(id.short) in pack \(pack.short) is damaged",
                                       remedy: "run `valkyrie verify --read-data` to see which sets and files it affects")
        }
    }

    /// The tree stored as blob `id`.
    public func tree(_ id: BlobID, caching: Bool = true) async throws -> Tree {
        try Tree(json: try await blob(id, caching: caching))
    }

    /// The plaintext length of blob `id`, from the index.
    func rawLength(_ id: BlobID) -> Int? {
        index.withLock { $0.location(id).map { Int($0.rawLength) } }
    }
}

/// The repository's `config` object.
public struct RepositoryConfig: Sendable, Codable, Equatable {
    public var version: Int
    public var id: String
    public var created: Date
    public var chunker: Chunker.Parameters

    /// 2: a file node may be a patch on another file (`Node.patchBase`), which version 1 readers would take for
    /// the file itself and whose base their prune would not keep, so they refuse it. Version 1 repositories open,
    /// restore and take backups as before, without patches.
    public static let currentVersion = 2
    public static let supportedVersions = 1...2

    public var allowsPatches: Bool { version >= 2 }
}
