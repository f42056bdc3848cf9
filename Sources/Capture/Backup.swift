import Catalog
import Foundation
import Repository
import Support
import Synchronization
import Vaulthalla

/// One `valkyrie backup`: takes every item of a recovery set into the repository at one point in time,
/// records each in the catalog, checks coherence, and fills the file and vault index.
///
/// Order: the database snapshot first; then what needs the Vaulthalla daemon (`vh version`, the exports, which
/// run alongside the dump and the walks, or before them with `--maintenance`); then, with `--maintenance`, the
/// services stop; the dump, the trees and the buckets are taken (at once, recorded in this order); the services
/// start again whatever happened; bodies are checked against the snapshot's vault index.
public final class Backup: Sendable {
    public let settings: CaptureSettings
    public let repository: Repository
    public let catalog: Catalog
    public let maintenance: Bool
    public let progress: CaptureProgress
    public let children = ChildProcesses()
    private let state = Mutex(RunState())

    struct RunState {
        var set: SetRecord?
        var item: String?
        var servicesStopped = false
        var finished = false
    }

    public init(settings: CaptureSettings, repository: Repository, catalog: Catalog, maintenance: Bool = false,
                progress: CaptureProgress = CaptureProgress()) {
        self.settings = settings
        self.repository = repository
        self.catalog = catalog
        self.maintenance = maintenance
        self.progress = progress
    }

    /// Runs the backup. A failure is recorded as `backup.failed` (naming the item) and rethrown.
    public func run() async throws -> BackupSummary {
        ProcessMemory.returnLargeBlocks()
        var started = Date()
        // Set names have a one-second resolution: a second backup in the same second waits for the next.
        if try catalog.set("\(UTCTime.compact(started))_\(settings.hostName)") != nil {
            try await Task.sleep(for: .milliseconds(1000 - Int(started.timeIntervalSince1970 * 1000) % 1000 + 10))
            started = Date()
        }
        let hasSwtpm = FileManager.default.fileExists(atPath: settings.swtpmDirectory)
        let planned = [SetLayout.postgres, SetLayout.etc, SetLayout.varLib] + (hasSwtpm ? [SetLayout.swtpm] : [])
            + [SetLayout.exports, SetLayout.keys, SetLayout.s3, SetLayout.s3Objects, SetLayout.vaultIndex, SetLayout.version]
        let set = try catalog.startSet(host: settings.hostName, startedAt: started, valkyrieVersion: settings.valkyrieVersion,
                                       items: planned)
        state.withLock { $0.set = set }
        do {
            let summary = try await capture(set, planned: planned, hasSwtpm: hasSwtpm, started: started)
            state.withLock { $0.finished = true }
            return summary
        } catch {
            let item = state.withLock { $0.item }
            restartServices()
            if markFinished() {
                _ = try? catalog.append(BackupFailed(set: set.id, error: Self.describe(error), item: item))
            }
            // The operator learns which set is recorded as failed, and where it stopped.
            let problem = (error as? OperatorError) ?? OperatorError.failed("\(error)")
            throw OperatorError(problem.status, "backup \(set.name) failed\(item.map { " at \($0)" } ?? ""): \(problem.problem)",
                                remedy: problem.remedy)
        }
    }

    /// For SIGINT/SIGTERM: stops the children, starts the services again and records the set as failed.
    /// Returns the set's name, or nil when no set was being taken.
    public func interrupt(reason: String) -> String? {
        children.terminateAll()
        restartServices()
        guard let set = state.withLock({ $0.set }), markFinished() else { return nil }
        _ = try? catalog.append(BackupFailed(set: set.id, error: reason, item: state.withLock { $0.item }))
        return set.name
    }

    /// True for the first caller only: one `backup.failed` or `backup.completed` per set.
    private func markFinished() -> Bool {
        state.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
    }

    private func restartServices() {
        let stopped = state.withLock { state in
            defer { state.servicesStopped = false }
            return state.servicesStopped
        }
        if stopped { Maintenance(settings.maintenance).start() }
    }

    /// The objects of every S3 vault (nil without S3 vaults).
    private func takeBuckets(_ s3Vaults: [VaulthallaDatabase.Vault], writer: SetWriter, previous: PreviousSet?) async throws
        -> (objects: CapturedItem, list: CapturedItem)? {
        guard !s3Vaults.isEmpty else { return nil }
        guard let access = settings.s3 else {
            throw OperatorError.badInput("the host has S3 vaults (\(s3Vaults.map(\.name).joined(separator: ", "))) but no S3 credentials are configured",
                                         remedy: "set s3_capture (endpoint, access_key_id, secret_access_key) in the config")
        }
        let (objects, list) = try await S3Source(access: access, vaults: s3Vaults, writer: writer, progress: progress,
                                                 previousTree: previous?.tree(SetLayout.s3),
                                                 previousObjects: try await previous?.s3Objects() ?? [],
                                                 previousList: try await previous?.file(SetLayout.s3Objects)).capture()
        return (stamped(objects), stamped(list))
    }

    /// `item` with the time its capture ended (it may be recorded later, after the items before it).
    private func stamped(_ item: CapturedItem) -> CapturedItem {
        var item = item
        item.finished = Date()
        return item
    }

    static func describe(_ error: Error) -> String {
        (error as? OperatorError)?.description ?? "\(error)"
    }

    private func capture(_ set: SetRecord, planned: [String], hasSwtpm: Bool, started: Date) async throws -> BackupSummary {
        let writer = try await repository.beginSet()
        let previous = try PreviousSet.find(catalog: catalog, host: settings.hostName, before: set, repository: repository)
        var index = try SetIndex(keepingBodyContent: previous != nil)
        var items: [ItemSummary] = []
        var roots: [String: Snapshot.Root] = [:]
        let total = planned.count

        func record(_ item: CapturedItem) async throws {
            try await index.add(item, tree: writer.tree)
            let size = index.sizes[item.root] ?? item.bytes
            let digest = item.digest ?? item.reference
            let seconds = (item.finished ?? Date()).timeIntervalSince(item.started)
            try catalog.append(ItemCaptured(set: set.id, item: item.root, root: item.reference, digest: digest, size: size,
                                            files: item.files, keyMaterial: SetLayout.keyMaterial.contains(item.root),
                                            warnings: item.warnings, seconds: seconds))
            roots[item.root] = item.value
            items.append(ItemSummary(item: item.root, files: item.files, size: size, bytesRead: item.bytes, reused: item.reused,
                                     digest: digest, seconds: seconds, warnings: item.warnings,
                                     keyMaterial: SetLayout.keyMaterial.contains(item.root)))
            progress.finishItem()
            // What the step freed goes back to the kernel before the next step allocates.
            ProcessMemory.releaseFreePages()
        }
        func begin(_ item: String) {
            state.withLock { $0.item = item }
            progress.begin(item: item, total: total)
        }

        begin(SetLayout.postgres)
        let snapshot = try DatabaseSnapshot(settings.database)
        defer { snapshot.close() }
        let vaults = try snapshot.vaults()
        let versions = try snapshot.currentKeyVersions()
        let counts = try snapshot.recordCounts()
        let migrations = try snapshot.schemaMigrations()
        let s3Vaults = vaults.filter { $0.type == "s3" && $0.bucket != nil }

        begin(SetLayout.version)
        let vhVersion = try VersionRecord.vhVersion(settings.vh)
        // The exports need the daemon: they run while the dump and the trees are taken, and before the services
        // stop with --maintenance. A failure surfaces when they are recorded, under their own item.
        let exportSource = ExportSource(settings: settings, writer: writer, vaults: vaults, currentVersions: versions)
        async let pendingExports = exportSource.capture()
        if maintenance {
            begin(SetLayout.exports)
            _ = try await pendingExports
            state.withLock { $0.servicesStopped = true }
            try Maintenance(settings.maintenance).stop()
        }
        begin(SetLayout.postgres)
        // The dump (pg_dump's time, and a patch's compression), the buckets (network waits) and the walks (reading
        // and hashing the host's files) are taken at once; each item is recorded, in the set's order, once taken.
        // A failure surfaces when its item is recorded, under that item.
        async let dumped = stamped(try await PostgresSource(snapshot: snapshot, writer: writer, children: children,
                                                            progress: progress, previousDump: try await previous?.dump()).capture())
        async let buckets = takeBuckets(s3Vaults, writer: writer, previous: previous)
        // What the coherence check takes from the previous set is read meanwhile too. A body whose content and
        // expected hash are those the previous set already matched is not hashed again.
        async let previousHashes: [String: String] = try await previous?.verifiedHashes() ?? [:]
        async let previousBodyContent: [String: [BlobID]] = try await previous?.bodyContent() ?? [:]
        // Bodies are hashed as the walk reads them, for the coherence check.
        let bodyHashes = BodyHashes()
        var excluded: [String] = []
        var trees: [(root: String, path: String, excludes: [String])] = [
            (SetLayout.etc, settings.configDirectory, []), (SetLayout.varLib, settings.dataDirectory, settings.dataExcludes)]
        if hasSwtpm { trees.append((SetLayout.swtpm, settings.swtpmDirectory, [])) }
        var walked: [CapturedItem] = []
        for (root, path, excludes) in trees {
            begin(root)
            guard FileManager.default.fileExists(atPath: path) else {
                throw OperatorError.badInput("\(path) does not exist", remedy: "fix the host paths in the config")
            }
            let observe: (@Sendable (String) -> (any ReadObserver)?)? = root == SetLayout.varLib && settings.verifyContentHashes
                ? bodyHashes.observer : nil
            let item = try await TreeSource(root: root, path: path, excludes: excludes, writer: writer,
                                            parent: previous?.tree(root), progress: progress, observe: observe).capture()
            excluded += item.excluded
            walked.append(stamped(item))
        }
        begin(SetLayout.postgres)
        try await record(try await dumped)
        for item in walked {
            begin(item.root)
            try await record(item)
        }
        begin(SetLayout.exports)
        let exports = try await pendingExports
        try await record(exports.exports)
        try await record(exports.keys)

        if !s3Vaults.isEmpty {
            begin(SetLayout.s3)
            if let s3 = try await buckets {
                try await record(s3.objects)
                try await record(s3.list)
            }
        }
        if state.withLock({ $0.servicesStopped }) {
            restartServices()
        }

        begin(SetLayout.vaultIndex)
        let previousVerified = try await previousHashes
        let previousContent = try await previousBodyContent
        let checker = Coherence(dataDirectory: settings.dataDirectory, verifyHashes: settings.verifyContentHashes)
        // Vault by vault and a batch of lines at a time (fetched through a cursor in the same snapshot), so the
        // index of a million files is never in memory whole: each batch is checked, appended to the JSONL file (a
        // temporary file, stored as a stream) and indexed.
        var mismatches: [String] = []
        let jsonl = try TemporaryFile.open()
        defer { try? jsonl.close() }
        for vault in vaults {
            try snapshot.vaultIndex(vault: vault) { batch in
                var lines = batch
                let coherence = checker.check(lines) { [index] line in
                    guard let verified = previousVerified[line.backingPath], verified == line.contentHash,
                          let content = index.bodyContent(line.backingPath) else { return false }
                    return content == previousContent[line.backingPath]
                } read: { bodyHashes.read($0) }
                mismatches += coherence.problems
                var bytes = Data()
                var encoded: [Data] = []
                encoded.reserveCapacity(lines.count)
                for i in lines.indices {
                    if coherence.hashed[i] { lines[i].hashVerified = true }
                    encoded.append(VaultIndexJSON.encode(lines[i]))
                    bytes.append(encoded[i])
                    bytes.append(UInt8(ascii: "\n"))
                }
                try jsonl.write(contentsOf: bytes)
                try index.addVaultIndex(lines, encoded: encoded)
            }
        }
        try jsonl.seek(toOffset: 0)
        let indexNode = try await writer.storeStream(jsonl, patchingOn: try await previous?.file(SetLayout.vaultIndex),
                                                     name: "vault-index.jsonl", mode: 0o600, mtime: started)
        try await record(CapturedItem(root: SetLayout.vaultIndex, value: .file(indexNode), files: 1, bytes: indexNode.size, started: Date()))

        begin(SetLayout.version)
        let versionRecord = VersionRecord(
            vhVersion: vhVersion, package: VersionRecord.package(), postgresServerVersion: snapshot.serverVersion,
            tpmMode: VersionRecord.tpm(TPMMode.select()), tpmTCTI: TPMMode.select().tcti, swtpmStatePresent: hasSwtpm,
            gpgRecipient: settings.exports.recipient, exportMode: settings.exports.mode.rawValue, host: settings.hostName,
            valkyrieVersion: settings.valkyrieVersion, counts: counts, schemaMigrations: migrations,
            vaults: vaults.map { .init(id: $0.id, name: $0.name, type: $0.type, mountPoint: $0.mountPoint, bucket: $0.bucket,
                                       currentKeyVersion: versions[$0.id], deleted: $0.deleted) },
            excluded: excluded, maintenance: maintenance)
        let versionNode = try await writer.storeFile(try JSONFormat.encoder(pretty: true).encode(versionRecord), name: "version.json",
                                                     mode: 0o644, mtime: started)
        try await record(CapturedItem(root: SetLayout.version, value: .file(versionNode), files: 1, bytes: versionNode.size, started: Date()))

        state.withLock { $0.item = nil }
        let metadata = SnapshotMetadata(set: set.id, name: set.name, host: set.host, ordinal: set.ordinal, version: versionRecord)
        let stored = try await writer.commit(metadata: try .init(encoding: metadata), roots: roots, time: started)
        for export in exports.recorded {
            try catalog.append(ExportRecorded(set: set.id, export: export.export, vault: export.vault, recipients: export.recipients,
                                              vaults: export.vaults, digest: export.digest, size: export.size))
        }
        guard markFinished() else {
            throw OperatorError.failed("backup \(set.name) was interrupted", remedy: "run the backup again")
        }
        try catalog.append(BackupCompleted(set: set.id, warnings: mismatches))
        let finalSet = try catalog.requireSet(set.id.uuidString)
        try catalog.index(finalSet, from: index)
        let statistics = writer.statistics
        return BackupSummary(set: set.name, id: set.id, snapshot: stored.id.hex, status: finalSet.status.rawValue,
                             seconds: Date().timeIntervalSince(started), items: items, mismatches: mismatches,
                             excluded: excluded, bytes: items.reduce(0) { $0 + $1.size },
                             bytesRead: items.reduce(0) { $0 + $1.bytesRead },
                             bytesAdded: statistics.newBytes, storedBytes: statistics.storedBytes,
                             reusedFiles: items.reduce(0) { $0 + $1.reused }, maintenance: maintenance)
    }
}

/// The snapshot's metadata: which catalog set it is (mount, restore and `catalog rebuild` find sets by it).
public struct SnapshotMetadata: Codable, Sendable, Equatable {
    public var set: UUID
    public var name: String
    public var host: String
    public var ordinal: Int
    public var version: VersionRecord
}

/// What `valkyrie backup` reports.
public struct BackupSummary: Codable, Sendable {
    public var set: String
    public var id: UUID
    public var snapshot: String
    /// complete, or partial (warnings or mismatches).
    public var status: String
    public var seconds: Double
    public var items: [ItemSummary]
    /// Bodies that do not match the vault index, one line each.
    public var mismatches: [String]
    public var excluded: [String]
    /// Logical size of every item, bytes read from the host, plaintext bytes new to the repository, bytes written.
    public var bytes: Int64
    public var bytesRead: Int64
    public var bytesAdded: Int64
    public var storedBytes: Int64
    /// Files and objects taken over from the previous set without reading them.
    public var reusedFiles: Int
    public var maintenance: Bool

    public var warnings: Int { mismatches.count + items.reduce(0) { $0 + $1.warnings.count } }
}

public struct ItemSummary: Codable, Sendable {
    public var item: String
    public var files: Int
    public var size: Int64
    public var bytesRead: Int64
    public var reused: Int
    public var digest: String
    public var seconds: Double
    public var warnings: [String]
    public var keyMaterial: Bool
}
