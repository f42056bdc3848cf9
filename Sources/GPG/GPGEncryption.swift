import CGPGME
import Foundation
import Support

extension GPGContext {
    /// Encrypts to exactly the given keys (fingerprints), trusting them as given: the caller chose them, and a
    /// recovery host's keyring rarely carries trust signatures. `encrypt-to` settings of gpg.conf are ignored
    /// so the message has no recipient the caller did not name.
    public func encrypt(_ plaintext: Data, to fingerprints: [String], armor: Bool = true) throws -> Data {
        guard !fingerprints.isEmpty else {
            throw OperatorError.badInput("no recipient to encrypt to", remedy: "give at least one key fingerprint")
        }
        var keys: [gpgme_key_t?] = []
        defer { keys.forEach { gpgme_key_unref($0) } }
        for fingerprint in fingerprints {
            let wanted = try Self.normalizedFingerprint(fingerprint)
            guard let key = try lookUp(wanted, secret: false) else { throw noPublicKey(wanted) }
            keys.append(key)
            guard Self.canEncrypt(key) else {
                throw OperatorError.badInput("the key \(wanted) cannot encrypt (revoked, expired, disabled or without an encryption subkey)",
                                             remedy: "renew the key or choose another recipient")
            }
        }
        keys.append(nil) // gpgme takes a NULL-terminated array
        gpgme_set_armor(ctx, armor ? 1 : 0)
        let flags = gpgme_encrypt_flags_t(rawValue: GPGME_ENCRYPT_ALWAYS_TRUST.rawValue | GPGME_ENCRYPT_NO_ENCRYPT_TO.rawValue)
        return try withInput(plaintext) { plain in
            try collectOutput { cipher in
                let err = keys.withUnsafeMutableBufferPointer { gpgme_op_encrypt(ctx, $0.baseAddress, flags, plain, cipher) }
                guard err == 0 else {
                    let invalid = gpgme_op_encrypt_result(ctx).flatMap { $0.pointee.invalid_recipients?.pointee.fpr }
                    let name = invalid.map { " for \(String(cString: $0))" } ?? ""
                    throw failure("cannot encrypt\(name)", err)
                }
            }
        }
    }

    /// Decrypts with a secret key of this keyring (gpg-agent unlocks it).
    public func decrypt(_ ciphertext: Data) throws -> Data {
        try withInput(ciphertext) { cipher in
            try collectOutput { plain in
                let err = gpgme_op_decrypt(ctx, cipher, plain)
                guard err == 0 else { throw decryptionFailure(err, ciphertext) }
            }
        }
    }

    /// Names the keys the message needs when none of their secret keys is here; gpgme lists the recipients
    /// even when it could not decrypt.
    private func decryptionFailure(_ err: gpgme_error_t, _ ciphertext: Data) -> OperatorError {
        let recipients = Self.list(gpgme_op_decrypt_result(ctx)?.pointee.recipients, next: \.next)
        let missing = !recipients.isEmpty && recipients.allSatisfy { Self.code($0.pointee.status) == GPG_ERR_NO_SECKEY }
        if Self.code(err) == GPG_ERR_NO_SECKEY || missing {
            let ids = recipients.compactMap { $0.pointee.keyid.map { String(cString: $0) } }.joined(separator: ", ")
            return .failed("no secret key to decrypt this message (encrypted to \(ids)) in the GnuPG home \(homeDirectory ?? "(default)")",
                           remedy: "decrypt it where the recipient's secret key is, or import that secret key")
        }
        switch Self.code(err) {
        case GPG_ERR_NO_DATA where (try? OpenPGPPackets.recipients(of: ciphertext)) == nil:
            return .badInput("the data is not an OpenPGP message", remedy: "give the .asc or .gpg file unchanged")
        case GPG_ERR_NO_DATA, GPG_ERR_BAD_DATA, GPG_ERR_DECRYPT_FAILED, GPG_ERR_CHECKSUM, GPG_ERR_WRONG_SECKEY:
            // gpg reports a message whose packets break off after its session keys as "no data".
            return failure("the OpenPGP message cannot be decrypted; it is damaged or was changed", err)
        default:
            return failure("cannot decrypt the OpenPGP message", err)
        }
    }
}
