import Foundation
import GPG
import Sodium
import Support
import TPM

/// One way to open the repository: a plaintext envelope around the master key wrapped under a key-encryption
/// key (KEK) that the slot's kind yields (docs/repository-format.md, Keys).
public struct KeySlot: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case passphrase, gpg, tpm, keyfile

        /// Passphrase and GPG slots survive the host; a TPM slot dies with it, and a key file stays on it unless
        /// the operator copies it.
        public var isPortable: Bool { self == .passphrase || self == .gpg }
    }

    public var id: String
    public var kind: Kind
    public var label: String
    public var created: Date
    public var host: String
    /// passphrase: argon2id salt and cost. keyfile: the salt of the KEK's keyed BLAKE2b.
    public var salt: Data?
    public var cost: Sodium.Argon2Cost?
    /// gpg: the recipient and the OpenPGP message holding the KEK.
    public var fingerprint: String?
    public var message: Data?
    /// tpm: the sealed KEK (TPM2B_PRIVATE buffer, TPMT_PUBLIC).
    public var tpmPrivate: Data?
    public var tpmPublic: Data?
    /// The master key sealed under the KEK.
    public var wrapped: Data

    var name: String { "keys/\(id)" }

    /// How messages name this slot: `passphrase slot 3f2a91c0 ("ops")`.
    public var title: String { "\(kind.rawValue) slot \(id.prefix(8)) (\"\(label)\")" }

    static func associatedData(_ id: String) -> Data { Data("valkyrie key v1 \(id)".utf8) }

    func unwrap(kek: Data) throws -> MasterKey {
        let key = try Sealing.open(wrapped, key: .init(data: kek), associatedData: Self.associatedData(id))
        guard let master = MasterKey(bytes: key) else { throw SealingError.authenticationFailed }
        return master
    }

    static func wrap(_ master: MasterKey, kek: Data, id: String) throws -> Data {
        try Sealing.seal(master.bytes, key: .init(data: kek), associatedData: associatedData(id))
    }

    static func newID() -> String { BlobID.sha256(Sodium.randomBytes(32)).hex.prefix(32).lowercased() }
}

/// A slot to create.
public enum NewKeySlot: Sendable {
    case passphrase(Data, cost: Sodium.Argon2Cost = .recommended)
    /// Encrypted to this OpenPGP key; only its public key must be in the keyring at `homeDirectory`.
    case gpg(fingerprint: String, homeDirectory: String? = nil)
    /// Sealed by the TPM reached through this TCTI (`device:/dev/tpmrm0`, `swtpm:host=...,port=...`).
    case tpm(tcti: String)
    /// Opened by the secret of a key file.
    case keyFile(KeyFile)

    var kind: KeySlot.Kind {
        switch self {
        case .passphrase: .passphrase
        case .gpg: .gpg
        case .tpm: .tpm
        case .keyFile: .keyfile
        }
    }

    /// Builds the slot for `master`.
    func make(for master: MasterKey, label: String) throws -> KeySlot {
        let id = KeySlot.newID()
        var slot = KeySlot(id: id, kind: kind, label: label, created: Date(),
                           host: ProcessInfo.processInfo.hostName, wrapped: Data())
        var kek: Data
        switch self {
        case let .passphrase(passphrase, cost):
            let salt = Sodium.randomBytes(Sodium.argon2SaltLength)
            kek = try Sodium.argon2id(passphrase: passphrase, salt: salt, cost: cost)
            slot.salt = salt
            slot.cost = cost
        case let .gpg(fingerprint, homeDirectory):
            let gpg = try GPGContext(homeDirectory: homeDirectory)
            guard let key = try gpg.key(fingerprint) else {
                throw OperatorError.badInput("GPG key \(fingerprint) is not in the keyring",
                                             remedy: "import its public key (gpg --import) or check the fingerprint")
            }
            guard key.canEncrypt else {
                throw OperatorError.badInput("GPG key \(fingerprint) cannot encrypt", remedy: "use a key with an encryption subkey")
            }
            kek = Sodium.randomBytes(32)
            slot.fingerprint = key.fingerprint
            slot.message = try gpg.encrypt(kek, to: [key.fingerprint], armor: true)
        case let .tpm(tcti):
            kek = Sodium.randomBytes(32)
            let sealed = try TPMContext(tcti: tcti).seal(kek)
            slot.tpmPrivate = sealed.privateArea
            slot.tpmPublic = sealed.publicArea
        case let .keyFile(file):
            let salt = Sodium.randomBytes(Sodium.blake2bSaltLength)
            kek = try file.kek(salt: salt)
            slot.salt = salt
        }
        defer { Sodium.wipe(&kek) }
        slot.wrapped = try KeySlot.wrap(master, kek: kek, id: id)
        return slot
    }
}

/// What the operator offers to open the repository; every matching slot is tried.
public enum Unlock: Sendable {
    case passphrase(Data)
    /// The secret key of a GPG slot's recipient, from the keyring at `homeDirectory` (nil: $GNUPGHOME).
    case gpg(homeDirectory: String? = nil)
    /// The TPM that sealed a TPM slot.
    case tpm(tcti: String)
    /// The key file of a key-file slot, read from `path` (named in messages).
    case keyFile(KeyFile, path: String)

    var kind: KeySlot.Kind {
        switch self {
        case .passphrase: .passphrase
        case .gpg: .gpg
        case .tpm: .tpm
        case .keyFile: .keyfile
        }
    }

    /// The master key from `slot`, or an OperatorError naming the slot (exit 2).
    func open(_ slot: KeySlot) throws -> MasterKey {
        switch self {
        case let .passphrase(passphrase):
            guard let salt = slot.salt, let cost = slot.cost else { throw Self.damaged(slot) }
            var kek = try Sodium.argon2id(passphrase: passphrase, salt: salt, cost: cost)
            defer { Sodium.wipe(&kek) }
            do { return try slot.unwrap(kek: kek) } catch {
                throw OperatorError.badInput("the passphrase does not open \(slot.title)",
                                             remedy: "check $VALKYRIE_PASSWORD or --password-file")
            }
        case let .gpg(homeDirectory):
            guard let message = slot.message else { throw Self.damaged(slot) }
            var kek: Data
            do { kek = try GPGContext(homeDirectory: homeDirectory).decrypt(message) } catch {
                throw OperatorError.badInput("GPG cannot open \(slot.title) for key \(slot.fingerprint ?? "?"): \(error)",
                                             remedy: "import that secret key, or point $GNUPGHOME at the keyring holding it")
            }
            defer { Sodium.wipe(&kek) }
            do { return try slot.unwrap(kek: kek) } catch { throw Self.damaged(slot) }
        case let .tpm(tcti):
            guard let privateArea = slot.tpmPrivate, let publicArea = slot.tpmPublic else { throw Self.damaged(slot) }
            var kek: Data
            do {
                kek = try TPMContext(tcti: tcti).unseal(SealedBlob(privateArea: privateArea, publicArea: publicArea))
            } catch {
                throw OperatorError.badInput("the TPM at \(tcti) cannot unseal \(slot.title): \(error)",
                                             remedy: "use the TPM of host \(slot.host), or open with a passphrase or GPG slot")
            }
            defer { Sodium.wipe(&kek) }
            do { return try slot.unwrap(kek: kek) } catch { throw Self.damaged(slot) }
        case let .keyFile(file, path):
            guard let salt = slot.salt, salt.count == Sodium.blake2bSaltLength else { throw Self.damaged(slot) }
            var kek = try file.kek(salt: salt)
            defer { Sodium.wipe(&kek) }
            do { return try slot.unwrap(kek: kek) } catch {
                throw OperatorError.badInput("key file \(path) does not open \(slot.title)",
                                             remedy: "check --key-file, $VALKYRIE_KEY_FILE or the config's key_file")
            }
        }
    }

    static func damaged(_ slot: KeySlot) -> OperatorError {
        OperatorError.failed("\(slot.title) is damaged",
                             remedy: "open the repository with another slot and remove this one")
    }
}
