import Crypto
import Foundation
import Sodium
import Support

/// The repository's secrets: the AES-256-GCM key for every blob and object, the HMAC key for blob ids, and the
/// key of the chunker's gear table. Held in key slots, never stored in the clear.
public struct MasterKey: Sendable {
    let encryption: SymmetricKey
    let id: SymmetricKey
    let chunker: SymmetricKey

    static let byteCount = 96

    /// A fresh random key for a new repository.
    static func generate() -> MasterKey {
        var bytes = Sodium.randomBytes(byteCount)
        defer { Sodium.wipe(&bytes) }
        return MasterKey(bytes: bytes)!
    }

    init(encryption: SymmetricKey, id: SymmetricKey, chunker: SymmetricKey) {
        self.encryption = encryption
        self.id = id
        self.chunker = chunker
    }

    init?(bytes: Data) {
        guard bytes.count == Self.byteCount else { return nil }
        let b = [UInt8](bytes)
        encryption = SymmetricKey(data: b[0..<32])
        id = SymmetricKey(data: b[32..<64])
        chunker = SymmetricKey(data: b[64..<96])
    }

    /// The 96 bytes a key slot wraps.
    var bytes: Data {
        var out = Data()
        for key in [encryption, id, chunker] { key.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// A blob's id: HMAC-SHA256 of its plaintext under the id key.
    func blobID(_ plaintext: Data) -> BlobID {
        BlobID(bytes: Array(HMAC<SHA256>.authenticationCode(for: plaintext, using: id)))!
    }

    /// `nonce || ciphertext || tag` of `plaintext`, binding `associatedData`.
    func seal(_ plaintext: Data, associatedData: Data) throws -> Data {
        try Sealing.seal(plaintext, key: encryption, associatedData: associatedData)
    }

    /// Opens what `seal` produced; throws `SealingError.authenticationFailed` on any change.
    func open(_ sealed: Data, associatedData: Data) throws -> Data {
        try Sealing.open(sealed, key: encryption, associatedData: associatedData)
    }
}

/// AES-256-GCM with random 96-bit nonces, as one `nonce || ciphertext || tag` byte string.
enum Sealing {
    static let overhead = 12 + 16

    static func seal(_ plaintext: Data, key: SymmetricKey, associatedData: Data) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: associatedData)
        return box.combined!
    }

    static func open(_ sealed: Data, key: SymmetricKey, associatedData: Data) throws -> Data {
        guard sealed.count >= overhead else { throw SealingError.authenticationFailed }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return try AES.GCM.open(box, using: key, authenticating: associatedData)
        } catch {
            throw SealingError.authenticationFailed
        }
    }
}

enum SealingError: Error {
    /// The ciphertext, its tag or its associated data was changed, or the key is wrong.
    case authenticationFailed
}
