import Crypto
import Foundation
import Support

/// Vaulthalla's "format 1" body encryption: AES-256-GCM, 12-byte nonce kept in `files.encryption_iv` (base64),
/// no AAD, no header, the 16-byte tag appended. The same construction wraps vault keys under `vault_master`.
public enum BodyCipher {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    /// The nonce stored in `files.encryption_iv`; nil for an empty IV (an empty or a plaintext body).
    public static func nonce(fromIV iv: String?) throws -> Data? {
        guard let iv, !iv.isEmpty else { return nil }
        guard let nonce = Data(base64Encoded: iv), nonce.count == nonceSize else {
            throw OperatorError.failed("encryption_iv '\(iv)' is not a base64 12-byte nonce",
                                       remedy: "check files.encryption_iv in the Vaulthalla database")
        }
        return nonce
    }

    /// `files.encryption_iv` for a nonce.
    public static func ivString(_ nonce: Data) -> String {
        nonce.base64EncodedString()
    }

    /// ciphertext || tag.
    public static func seal(_ plaintext: Data, key: Data, nonce: Data) throws -> Data {
        try checkSizes(key: key, nonce: nonce)
        let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce))
        return box.ciphertext + box.tag
    }

    /// The plaintext of ciphertext || tag; throws when the tag does not verify (wrong key or damaged body).
    public static func open(_ sealed: Data, key: Data, nonce: Data) throws -> Data {
        try checkSizes(key: key, nonce: nonce)
        guard sealed.count >= tagSize else {
            throw OperatorError.failed("encrypted body is \(sealed.count) bytes, shorter than its 16-byte tag")
        }
        let split = sealed.index(sealed.endIndex, offsetBy: -tagSize)
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce),
                                            ciphertext: sealed[sealed.startIndex..<split],
                                            tag: sealed[split...])
            return try AES.GCM.open(box, using: SymmetricKey(data: key))
        } catch {
            throw OperatorError.failed("GCM tag does not verify (wrong key or damaged ciphertext)")
        }
    }

    private static func checkSizes(key: Data, nonce: Data) throws {
        guard key.count == keySize else { throw OperatorError.failed("AES-256-GCM key must be 32 bytes, got \(key.count)") }
        guard nonce.count == nonceSize else { throw OperatorError.failed("GCM nonce must be 12 bytes, got \(nonce.count)") }
    }
}

/// Every key version of one vault, unwrapped: what decrypting its bodies takes.
public struct VaultKeyring: Sendable {
    public var vaultID: Int
    /// key version -> 32-byte key.
    public var keys: [Int: Data]
    /// The version `vault_keys` holds now (the one `vh vault keys export` exports).
    public var currentVersion: Int

    public init(vaultID: Int, keys: [Int: Data], currentVersion: Int) {
        self.vaultID = vaultID
        self.keys = keys
        self.currentVersion = currentVersion
    }

    /// A decrypted body and what it took.
    public struct Opened: Sendable {
        public var plaintext: Data
        /// The key version whose tag verified; nil for a body stored in plaintext (empty IV).
        public var keyVersion: Int?
        /// The recorded `encrypted_with_key_version` was not the one that opened the body (1.1.0 after a rotation).
        public var staleRecordedVersion: Bool
    }

    /// Decrypts a body as Vaulthalla reads it: an empty IV means the body is plaintext; otherwise the recorded
    /// key version is tried first, then the others (newest first), and the GCM tag says which one is right.
    public func open(body: Data, encryptionIV: String?, recordedVersion: Int?) throws -> Opened {
        guard let nonce = try BodyCipher.nonce(fromIV: encryptionIV) else {
            return Opened(plaintext: body, keyVersion: nil, staleRecordedVersion: false)
        }
        var order = keys.keys.sorted(by: >)
        if let recordedVersion, let at = order.firstIndex(of: recordedVersion) {
            order.remove(at: at)
            order.insert(recordedVersion, at: 0)
        }
        for version in order {
            guard let key = keys[version], let plaintext = try? BodyCipher.open(body, key: key, nonce: nonce) else { continue }
            return Opened(plaintext: plaintext, keyVersion: version, staleRecordedVersion: version != recordedVersion)
        }
        throw OperatorError.failed(
            "no key version of vault \(vaultID) (tried \(order.map(String.init).joined(separator: ", "))) opens the body",
            remedy: "the body is damaged or belongs to a key that is not in vault_keys / vault_keys_trashed")
    }
}

extension VaultKeyring {
    /// A file's body checked the way a restore or drill must: BLAKE2b-256 of the stored body equal to
    /// `files.content_hash`, the GCM tag verified under one of the vault's key versions, and the plaintext as long
    /// as `files.size_bytes`. Errors name the vault and logical path.
    public func open(_ file: VaulthallaDatabase.FileEntry, body: Data) throws -> Opened {
        let place = "vault \(file.vaultID) \(file.logicalPath)"
        if let expected = file.contentHash, ContentHash.hex(of: body) != expected {
            throw OperatorError.failed("\(place): BLAKE2b-256 of the body differs from files.content_hash",
                                       remedy: "the body at \(file.backingPath) changed after the database recorded it")
        }
        let opened: Opened
        do {
            opened = try open(body: body, encryptionIV: file.encryptionIV, recordedVersion: file.keyVersion)
        } catch let error as OperatorError {
            throw OperatorError.failed("\(place): \(error.problem)", remedy: error.remedy)
        }
        guard Int64(opened.plaintext.count) == file.sizeBytes else {
            throw OperatorError.failed("\(place): plaintext is \(opened.plaintext.count) bytes, files.size_bytes says \(file.sizeBytes)")
        }
        return opened
    }
}
