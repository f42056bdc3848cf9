import Foundation
import Support

/// One vault's entry of `vh vault keys export` (an object for one vault, an array for `all`).
/// Field names and their spelling are Vaulthalla's; keys sort when written, as Vaulthalla writes them.
public struct VaultKeyExport: Codable, Sendable, Equatable {
    /// Base64 of the 32 raw key bytes.
    public var key: String
    public var keyInfo: KeyInfo
    public var vaultID: Int
    public var vaultName: String
    /// Set by newer versions for a deleted-but-unpurged vault.
    public var deletedVault: Bool?

    public init(key: String, keyInfo: KeyInfo, vaultID: Int, vaultName: String, deletedVault: Bool? = nil) {
        self.key = key
        self.keyInfo = keyInfo
        self.vaultID = vaultID
        self.vaultName = vaultName
        self.deletedVault = deletedVault
    }

    enum CodingKeys: String, CodingKey {
        case key
        case keyInfo = "key_info"
        case vaultID = "vault_id"
        case vaultName = "vault_name"
        case deletedVault = "deleted_vault"
    }

    public struct KeyInfo: Codable, Sendable, Equatable {
        public var aad: Bool
        public var cipherImpl: String
        public var createdAt: String
        public var exportedAt: String
        public var exportedBy: String
        public var filesHashedWith: String
        public var hardwareAccel: String
        public var ivGen: String
        public var ivSize: Int
        public var keySize: Int
        public var keyVersion: Int
        public var sealedBy: String
        public var tagSize: Int
        public var type: String

        /// What Vaulthalla writes for a key of `version` exported by `user` from `sealedBy` ("Vaulthalla v1.6.6").
        public init(keyVersion: Int, createdAt: String, exportedAt: String, exportedBy: String, sealedBy: String) {
            aad = false
            cipherImpl = "libsodium::crypto_aead_aes256gcm"
            self.createdAt = createdAt
            self.exportedAt = exportedAt
            self.exportedBy = exportedBy
            filesHashedWith = "libsodium"
            hardwareAccel = "AES-NI (runtime checked)"
            ivGen = "libsodium::randombytes_buf"
            ivSize = BodyCipher.nonceSize
            keySize = BodyCipher.keySize
            self.keyVersion = keyVersion
            self.sealedBy = sealedBy
            tagSize = BodyCipher.tagSize
            type = "AES-256-GCM"
        }

        enum CodingKeys: String, CodingKey {
            case aad, type
            case cipherImpl = "cipher_impl"
            case createdAt = "created_at"
            case exportedAt = "exported_at"
            case exportedBy = "exported_by"
            case filesHashedWith = "files_hashed_with"
            case hardwareAccel = "hardware_accel"
            case ivGen = "iv_gen"
            case ivSize = "iv_size"
            case keySize = "key_size"
            case keyVersion = "key_version"
            case sealedBy = "sealed_by"
            case tagSize = "tag_size"
        }
    }

    /// The 32 key bytes, after checking the entry describes what format-1 bodies need.
    public func keyBytes() throws -> Data {
        guard let bytes = Data(base64Encoded: key), bytes.count == BodyCipher.keySize else {
            throw OperatorError.failed("key export of vault '\(vaultName)' (id \(vaultID)) does not hold a 32-byte key",
                                       remedy: "export the key again with `vh vault keys export \(vaultID)`")
        }
        guard keyInfo.type == "AES-256-GCM", keyInfo.keySize == BodyCipher.keySize, keyInfo.ivSize == BodyCipher.nonceSize,
              keyInfo.tagSize == BodyCipher.tagSize, !keyInfo.aad else {
            throw OperatorError.failed("key export of vault '\(vaultName)' describes \(keyInfo.type) with other sizes or AAD",
                                       remedy: "this Vaulthalla version's body format is not the one Valkyrie knows")
        }
        return bytes
    }

    /// Parses `vh vault keys export` output: one object, or an array of them.
    public static func parse(_ data: Data) throws -> [VaultKeyExport] {
        let decoder = JSONDecoder()
        if let many = try? decoder.decode([VaultKeyExport].self, from: data) { return many }
        do {
            return [try decoder.decode(VaultKeyExport.self, from: data)]
        } catch {
            throw OperatorError.failed("vault key export is not Vaulthalla's key-export JSON (\(Self.describe(error)))",
                                       remedy: "check the `vh vault keys export` output")
        }
    }

    /// Each entry of an `all` export by vault id, written as that vault's own export is (one object, keys sorted,
    /// pretty), every field kept as Vaulthalla wrote it, including fields this version does not know.
    public static func entries(ofAll data: Data) throws -> [Int: Data] {
        guard let array = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
            throw OperatorError.failed("vault key export of all vaults is not a JSON array of objects",
                                       remedy: "check the `vh vault keys export all` output")
        }
        var entries: [Int: Data] = [:]
        for object in array {
            guard let id = object[CodingKeys.vaultID.rawValue] as? Int else {
                throw OperatorError.failed("vault key export of all vaults has an entry without vault_id",
                                           remedy: "check the `vh vault keys export all` output")
            }
            entries[id] = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        }
        return entries
    }

    /// Vaulthalla's rendering: keys sorted; compact (what gets encrypted) or pretty (what goes to a terminal).
    public static func render(_ exports: [VaultKeyExport], single: Bool, pretty: Bool) throws -> Data {
        let encoder = JSONFormat.encoder(pretty: pretty)
        return single && exports.count == 1 ? try encoder.encode(exports[0]) : try encoder.encode(exports)
    }

    /// A decoding error, named by field but never quoting values (they may be keys).
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "not valid JSON"
        }
    }
}

/// One entry of `vh secret export`: `[{"name":"db-password","secret":"..."},{"name":"jwt-secret","secret":"..."}]`.
public struct SecretExport: Codable, Sendable, Equatable {
    public var name: String
    public var secret: String

    public init(name: String, secret: String) {
        self.name = name
        self.secret = secret
    }

    /// The names `vh secret export` knows (besides `all`).
    public static let names = ["db-password", "jwt-secret"]

    public static func parse(_ data: Data) throws -> [SecretExport] {
        let decoder = JSONDecoder()
        if let many = try? decoder.decode([SecretExport].self, from: data) { return many }
        do {
            return [try decoder.decode(SecretExport.self, from: data)]
        } catch {
            throw OperatorError.failed("secret export is not Vaulthalla's secret-export JSON (\(VaultKeyExport.describe(error)))",
                                       remedy: "check the `vh secret export` output")
        }
    }

    public static func render(_ secrets: [SecretExport], pretty: Bool) throws -> Data {
        try JSONFormat.encoder(pretty: pretty).encode(secrets)
    }
}
