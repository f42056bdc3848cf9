import Foundation
import Support
import Vaulthalla

/// A body as Vaulthalla stores it, and the `files` columns that describe it.
struct StoredBody {
    var body: Data
    /// `files.encryption_iv`: base64 nonce, or empty for an empty or plaintext body.
    var iv: String
    var keyVersion: Int?
    /// BLAKE2b-256 hex of the body as stored.
    var contentHash: String

    /// Format 1: AES-256-GCM under the vault key of `version`, tag appended.
    static func encrypted(_ plaintext: Data, key: Data, version: Int, nonce: Data) throws -> StoredBody {
        let body = try BodyCipher.seal(plaintext, key: key, nonce: nonce)
        return StoredBody(body: body, iv: BodyCipher.ivString(nonce), keyVersion: version,
                          contentHash: ContentHash.hex(of: body))
    }

    /// What 1.1.0 wrote through its FUSE mount (and every version writes for an empty file): the plaintext, empty IV.
    static func plain(_ plaintext: Data) -> StoredBody {
        StoredBody(body: plaintext, iv: "", keyVersion: nil, contentHash: ContentHash.hex(of: plaintext))
    }

    /// Into an existing folder: open, write, close, with no fsync (Foundation's `Data.write` syncs every file,
    /// which made a large host's million bodies take hours on a virtual disk; a lab host needs no durability).
    func write(to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw OperatorError.failed("cannot write body \(path): \(String(cString: strerror(errno)))",
                                       remedy: "check the folder's permissions and free space")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: body)
            try handle.close()
        } catch {
            throw OperatorError.failed("cannot write body \(path): \(error.localizedDescription)",
                                       remedy: "check the folder's permissions and free space")
        }
    }
}

/// What the lab knows of one vault while it writes into it.
struct LabVault {
    var id: Int
    var name: String
    var type: String
    var mountPoint: String
    var ownerID: Int
    var bucket: String?
    var deleted: Bool
    var currentVersion: Int
}

/// A folder of a vault's tree: its entry, logical path and alias path under the data directory.
struct LabDirectory {
    var id: Int64
    var path: String
    var backing: String
    var depth: Int

    func childPath(_ name: String) -> String {
        path == "/" ? "/\(name)" : "\(path)/\(name)"
    }
}
