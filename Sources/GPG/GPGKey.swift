import CGPGME
import Foundation
import Support

/// What Valkyrie needs to know about one OpenPGP key.
public struct GPGKey: Sendable, Equatable, Codable {
    /// The primary key's fingerprint, upper-case hex.
    public var fingerprint: String
    public var userIDs: [String]
    /// Usable for encryption now: not revoked, expired, disabled or invalid, with an encryption subkey.
    public var canEncrypt: Bool
    /// The secret key is in this keyring.
    public var hasSecret: Bool
    /// Key ids (16 hex digits) of the primary key and every subkey, in the key's order.
    public var subkeyIDs: [String]

    public init(fingerprint: String, userIDs: [String], canEncrypt: Bool, hasSecret: Bool, subkeyIDs: [String]) {
        self.fingerprint = fingerprint
        self.userIDs = userIDs
        self.canEncrypt = canEncrypt
        self.hasSecret = hasSecret
        self.subkeyIDs = subkeyIDs
    }
}

extension GPGContext {
    /// The key with this fingerprint (or long key id) in the keyring, or nil if there is none.
    public func key(_ fingerprint: String) throws -> GPGKey? {
        let wanted = try Self.normalizedFingerprint(fingerprint)
        guard let key = try lookUp(wanted, secret: false) else { return nil }
        defer { gpgme_key_unref(key) }
        let secret = try lookUp(wanted, secret: true)
        defer { if let secret { gpgme_key_unref(secret) } }
        return GPGKey(
            fingerprint: key.pointee.fpr.map { String(cString: $0) } ?? wanted,
            userIDs: Self.list(key.pointee.uids, next: \.next).compactMap { $0.pointee.uid.map { String(cString: $0) } },
            canEncrypt: Self.canEncrypt(key),
            hasSecret: secret != nil,
            subkeyIDs: Self.list(key.pointee.subkeys, next: \.next).compactMap { $0.pointee.keyid.map { String(cString: $0) } })
    }

    /// Imports every key in `data` (armored or binary); returns the fingerprints gpg reports for them.
    @discardableResult
    public func importKeys(_ data: Data) throws -> [String] {
        try withInput(data) { input in
            let err = gpgme_op_import(ctx, input)
            guard err == 0 else { throw failure("cannot import keys", err) }
        }
        guard let result = gpgme_op_import_result(ctx), result.pointee.considered > 0 else {
            throw OperatorError.badInput("the data to import holds no OpenPGP keys",
                                         remedy: "give a key file as `gpg --export` writes it")
        }
        let imported = Self.list(result.pointee.imports, next: \.next)
        if let failed = imported.first(where: { $0.pointee.result != 0 }) {
            let name = failed.pointee.fpr.map { String(cString: $0) } ?? "a key"
            throw failure("cannot import \(name)", failed.pointee.result)
        }
        return imported.compactMap { $0.pointee.fpr.map { String(cString: $0) } }
    }

    /// The public key (and its subkeys and user IDs) as ASCII armor.
    public func exportPublicKey(_ fingerprint: String) throws -> Data {
        let wanted = try Self.normalizedFingerprint(fingerprint)
        guard let key = try lookUp(wanted, secret: false) else { throw noPublicKey(wanted) }
        gpgme_key_unref(key)
        gpgme_set_armor(ctx, 1)
        let exported = try collectOutput { output in
            let err = gpgme_op_export(ctx, wanted, 0, output)
            guard err == 0 else { throw failure("cannot export the public key \(wanted)", err) }
        }
        guard !exported.isEmpty else { throw noPublicKey(wanted) }
        return exported
    }

    func noPublicKey(_ fingerprint: String) -> OperatorError {
        .badInput("no public key for \(fingerprint) in the GnuPG home \(homeDirectory ?? "(default)")",
                  remedy: "import it (`gpg --import`) or check the fingerprint")
    }

    /// The key, or nil when the keyring has none (the caller unrefs it).
    func lookUp(_ fingerprint: String, secret: Bool) throws -> gpgme_key_t? {
        var key: gpgme_key_t?
        let err = gpgme_get_key(ctx, fingerprint, &key, secret ? 1 : 0)
        switch Self.code(err) {
        case GPG_ERR_NO_ERROR: return key
        case GPG_ERR_EOF: return nil
        default: throw failure("cannot look up the key \(fingerprint)", err)
        }
    }

    static func canEncrypt(_ key: gpgme_key_t) -> Bool {
        let k = key.pointee
        return k.can_encrypt != 0 && k.revoked == 0 && k.expired == 0 && k.disabled == 0 && k.invalid == 0
    }

    /// The elements of one of gpgme's linked lists.
    static func list<T>(_ head: UnsafeMutablePointer<T>?, next: KeyPath<T, UnsafeMutablePointer<T>?>) -> [UnsafeMutablePointer<T>] {
        var items: [UnsafeMutablePointer<T>] = []
        var cursor = head
        while let item = cursor {
            items.append(item)
            cursor = item.pointee[keyPath: next]
        }
        return items
    }
}
