import Foundation
import Support
import Testing
@testable import Vaulthalla

@Suite struct ExportTests {
    /// The key-export sample of vaulthalla-formats.md, verbatim (its placeholders included).
    static let sample = """
        {"key": "<base64 of 32 raw bytes>",
         "key_info": {"aad": false, "cipher_impl": "libsodium::crypto_aead_aes256gcm", "created_at": "...Z",
                      "exported_at": "...Z", "exported_by": "<user>", "files_hashed_with": "libsodium",
                      "hardware_accel": "AES-NI (runtime checked)", "iv_gen": "libsodium::randombytes_buf",
                      "iv_size": 12, "key_size": 32, "key_version": 3, "sealed_by": "Vaulthalla v1.6.6",
                      "tag_size": 16, "type": "AES-256-GCM"},
         "vault_id": 4, "vault_name": "finance"}
        """

    @Test func parsesTheDocumentedSample() throws {
        let exports = try VaultKeyExport.parse(Data(Self.sample.utf8))
        #expect(exports.count == 1)
        let entry = try #require(exports.first)
        #expect(entry.vaultID == 4 && entry.vaultName == "finance" && entry.deletedVault == nil)
        #expect(entry.keyInfo.keyVersion == 3 && entry.keyInfo.ivSize == 12 && entry.keyInfo.keySize == 32)
        #expect(entry.keyInfo.tagSize == 16 && entry.keyInfo.type == "AES-256-GCM" && !entry.keyInfo.aad)
        #expect(entry.keyInfo.cipherImpl == "libsodium::crypto_aead_aes256gcm")
        #expect(entry.keyInfo.sealedBy == "Vaulthalla v1.6.6" && entry.keyInfo.exportedBy == "<user>")
        // The sample's key is a placeholder, not 32 bytes of base64: refused, without quoting it.
        let error = #expect(throws: OperatorError.self) { try entry.keyBytes() }
        #expect(error?.problem.contains("<base64") == false)
    }

    @Test func rendersSortedCompactJSONThatParsesBack() throws {
        let key = Data((0..<32).map { UInt8($0) })
        let info = VaultKeyExport.KeyInfo(keyVersion: 2, createdAt: "2026-01-02T03:04:05Z", exportedAt: "2026-11-29T00:00:00Z",
                                          exportedBy: "admin", sealedBy: "Vaulthalla v1.6.6")
        let entries = [VaultKeyExport(key: key.base64EncodedString(), keyInfo: info, vaultID: 1, vaultName: "a/b"),
                       VaultKeyExport(key: key.base64EncodedString(), keyInfo: info, vaultID: 9, vaultName: "old", deletedVault: true)]
        let compact = String(decoding: try VaultKeyExport.render(entries, single: false, pretty: false), as: UTF8.self)
        #expect(compact.hasPrefix(#"[{"key":""#))
        #expect(compact.contains(#""key_info":{"aad":false,"cipher_impl":"#))
        #expect(compact.contains(#""vault_name":"a/b""#))
        #expect(compact.contains(#""deleted_vault":true,"key""#))
        #expect(!compact.contains("\n"))
        let back = try VaultKeyExport.parse(Data(compact.utf8))
        #expect(back == entries)
        #expect(try back[0].keyBytes() == key)
        let single = try VaultKeyExport.render([entries[0]], single: true, pretty: true)
        #expect(try VaultKeyExport.parse(single) == [entries[0]])
    }

    @Test("an `all` export splits into each vault's own export, every field kept, unknown ones included")
    func splitsAnAllExport() throws {
        let all = "[" + Self.sample + #", {"key": "k2", "key_info": {"key_version": 1}, "vault_id": 7, "vault_name": "a/b", "future_field": [1, 2]}]"#
        let entries = try VaultKeyExport.entries(ofAll: Data(all.utf8))
        #expect(entries.keys.sorted() == [4, 7])
        let finance = try VaultKeyExport.parse(try #require(entries[4]))
        let sample = try VaultKeyExport.parse(Data(Self.sample.utf8))
        #expect(finance == sample)
        let other = String(decoding: try #require(entries[7]), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(other.utf8)) as? [String: Any])
        #expect(object["future_field"] as? [Int] == [1, 2] && object["vault_name"] as? String == "a/b")
        #expect(other.contains("\"a/b\"") && other.contains("\n"))
        #expect(other.range(of: "\"future_field\"")!.lowerBound < other.range(of: "\"key\"")!.lowerBound)
        #expect(throws: OperatorError.self) { try VaultKeyExport.entries(ofAll: Data(Self.sample.utf8)) }
        #expect(throws: OperatorError.self) { try VaultKeyExport.entries(ofAll: Data(#"[{"key": "x"}]"#.utf8)) }
    }

    @Test func refusesWhatIsNotAKeyExport() {
        #expect(throws: OperatorError.self) { try VaultKeyExport.parse(Data(#"{"vault_id": 4}"#.utf8)) }
        #expect(throws: OperatorError.self) { try VaultKeyExport.parse(Data("not json".utf8)) }
        var info = VaultKeyExport.KeyInfo(keyVersion: 1, createdAt: "", exportedAt: "", exportedBy: "", sealedBy: "")
        info.aad = true
        let withAAD = VaultKeyExport(key: Data(count: 32).base64EncodedString(), keyInfo: info, vaultID: 1, vaultName: "x")
        #expect(throws: OperatorError.self) { try withAAD.keyBytes() }
    }

    @Test func parsesTheDocumentedSecretExport() throws {
        let sample = #"[{"name":"db-password","secret":"..."},{"name":"jwt-secret","secret":"..."}]"#
        let secrets = try SecretExport.parse(Data(sample.utf8))
        #expect(secrets.map(\.name) == ["db-password", "jwt-secret"])
        #expect(String(decoding: try SecretExport.render(secrets, pretty: false), as: UTF8.self) == sample)
        #expect(throws: OperatorError.self) { try SecretExport.parse(Data(#"[{"name":"x"}]"#.utf8)) }
    }

    @Test func bucketManifestRoundTripsWithVaulthallasFieldNames() throws {
        let objects = [BucketManifest.Object(key: "docs/a b.txt", sizeBytes: 42, lastModified: "2026-11-29T00:00:00Z",
                                             contentHash: "ab", encrypted: true, iv: "AAAAAAAAAAAAAAAA", keyVersion: 3, etag: "\"e\"")]
        let manifest = BucketManifest(vaultID: 5, generation: 2, generatedAt: "2026-11-29T00:00:00Z", objects: objects)
        let text = String(decoding: try JSONFormat.encoder().encode(manifest), as: UTF8.self)
        for field in [#""version":1"#, #""vault_id":5"#, #""producer":"vaulthalla""#, #""object_count":1"#, #""object_checksum":"#,
                      #""size_bytes":42"#, #""key_version":3"#, #""storage_class":"STANDARD""#] {
            #expect(text.contains(field), "missing \(field)")
        }
        #expect(try BucketManifest.parse(Data(text.utf8)) == manifest)
    }
}
