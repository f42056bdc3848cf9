import Catalog
import Foundation
import Synchronization

/// Plaintext reads under `vaults/` during one mount, recorded once at unmount.
public struct MountPlaintextRead: EventPayload {
    public static let type: EventType = "mount.plaintext-read"
    public var mountpoint: String
    public var sets: [UUID]
    public var files: Int
    public var bytes: Int64
    public init(mountpoint: String, sets: [UUID], files: Int, bytes: Int64) {
        self.mountpoint = mountpoint; self.sets = sets; self.files = files; self.bytes = bytes
    }
}

/// The catalog events a mount owes: "key extracted" the first time each key-material file is opened, and
/// the plaintext summary at unmount.
final class MountAudit: Sendable {
    private struct Plaintext {
        var files = Set<String>()
        var sets = Set<UUID>()
        var bytes: Int64 = 0
    }

    let catalog: Catalog
    let mountpoint: String
    private let opened = Mutex(Set<String>())
    private let plaintext = Mutex(Plaintext())

    init(catalog: Catalog, mountpoint: String) {
        self.catalog = catalog
        self.mountpoint = mountpoint
    }

    /// Records the opening of key material before any byte of it is served. `vault` is the vault a per-vault
    /// export covers; other key material (all-vault exports, swtpm state, sealed blobs) is named by its path.
    func keyMaterialOpened(set: SetDetails, path: String, vault: String?, keyVersion: Int) throws {
        let key = "\(set.set.id.uuidString)\(path)"
        guard opened.withLock({ !$0.contains(key) }) else { return }
        let recipients = set.exports.filter { vault == nil || $0.vault == vault || $0.vaults.contains(vault!) }
            .flatMap(\.recipients)
        try catalog.append(KeyExtracted(set: set.set.id, vault: vault ?? path, keyVersion: keyVersion,
                                        recipients: Array(Set(recipients)).sorted()))
        _ = opened.withLock { $0.insert(key) }
    }

    /// A vault file opened in plaintext counts as read (an empty one is never read at all).
    func plaintextOpened(set: UUID, file: String) {
        plaintext.withLock { tally in
            tally.files.insert("\(set.uuidString)\(file)")
            tally.sets.insert(set)
        }
    }

    func plaintextRead(bytes: Int) {
        plaintext.withLock { $0.bytes += Int64(bytes) }
    }

    /// The summary event, if anything was read in plaintext.
    func finish() throws {
        let tally = plaintext.withLock { $0 }
        guard !tally.files.isEmpty else { return }
        try catalog.append(MountPlaintextRead(mountpoint: mountpoint, sets: tally.sets.sorted { $0.uuidString < $1.uuidString },
                                              files: tally.files.count, bytes: tally.bytes))
    }
}
