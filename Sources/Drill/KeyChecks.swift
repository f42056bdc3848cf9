import Capture
import Foundation
import GPG
import TPM
import Vaulthalla

/// The set's exported vault keys, decrypted with the operator's GPG key: `keys/<vault>.json.asc` first, then
/// `exports/vault-keys.json.asc`. Kept in memory only.
struct ExportedKeys {
    /// vault id -> (key version, key, which export held it)
    var keys: [Int: (version: Int, key: Data, source: String)] = [:]
    var problems: [String] = []

    static func load(_ source: SetSource, gnupgHome: String?) async throws -> ExportedKeys {
        var found = ExportedKeys()
        let gpg = try GPGContext(homeDirectory: gnupgHome)
        var files: [(String, Data)] = []
        try await source.walk(SetLayout.keys) { path, node in
            if node.type == .file, path.hasSuffix(".json.asc") { files.append(("keys/\(path)", try await source.read(node))) }
        }
        if let all = try await source.contents(SetLayout.exports, "vault-keys.json.asc") { files.append(("exports/vault-keys.json.asc", all)) }
        for (name, armored) in files {
            do {
                for export in try VaultKeyExport.parse(try gpg.decrypt(armored)) where found.keys[export.vaultID] == nil {
                    found.keys[export.vaultID] = (export.keyInfo.keyVersion, try export.keyBytes(), name)
                }
            } catch {
                found.problems.append("\(name): \(error)")
            }
        }
        return found
    }
}

struct KeyChecks {
    let database: VaulthallaDatabase
    let exported: ExportedKeys

    /// Every vault of the restored database has an exported key at its current version.
    func coverage() -> CheckResult {
        let start = Date()
        var log = CheckLog()
        do {
            let current = Dictionary(try database.wrappedKeys().filter(\.current).map { ($0.vaultID, $0.version) }, uniquingKeysWith: max)
            for vault in try database.vaults() {
                guard let version = current[vault.id] else {
                    log.fail("vault \(vault.name) (id \(vault.id)) has no row in vault_keys")
                    continue
                }
                guard let key = exported.keys[vault.id] else {
                    log.fail("vault \(vault.name) (id \(vault.id)) has no exported key in the set")
                    continue
                }
                log.expect(key.version == version, "vault \(vault.name): exported key version \(key.version) in \(key.source), current version \(version)")
            }
            log.lines += exported.problems.map { "could not read \($0)" }
        } catch {
            log.fail("\(error)")
        }
        return log.result("key-export coverage", since: start)
    }

    /// On a copy of the set's swtpm state, the restored `.sealed_*` blobs unseal; the unsealed vault_master
    /// unwraps the restored vault_keys rows, and they equal the exported keys. Returns the keyrings (every key
    /// version) for the file checks.
    func swtpm(_ source: SetSource, folder: ScratchFolder, started: (ScratchSwtpm) -> Void) async -> (CheckResult, [Int: VaultKeyring]) {
        let start = Date()
        var log = CheckLog()
        var keyrings: [Int: VaultKeyring] = [:]
        do {
            let state = "\(folder.setFolder)/swtpm"
            _ = try await source.restore(SetLayout.swtpm, into: state)
            let swtpm = try ScratchSwtpm.start(stateDirectory: state, folder: folder.setFolder)
            started(swtpm)
            defer { swtpm.stop() }
            var vaultMaster: Data?
            let tpm = try TPMContext(tcti: swtpm.tcti)
            for secret in SealedSecret.allCases {
                let dir = ".sealed_\(secret.rawValue).blob"
                guard let priv = try await source.contents(SetLayout.varLib, "\(dir)/\(secret.rawValue).priv"),
                      let pub = try await source.contents(SetLayout.varLib, "\(dir)/\(secret.rawValue).pub") else {
                    log.pass("\(dir): not in the set")
                    continue
                }
                do {
                    let secretBytes = try tpm.unseal(SealedBlob(privateArea: priv, publicArea: pub))
                    log.pass("\(dir): unsealed (\(secretBytes.count) bytes)")
                    if secret == .vaultMaster { vaultMaster = secretBytes }
                } catch {
                    log.fail("\(dir) does not unseal on the restored swtpm state: \(error)")
                }
            }
            if let vaultMaster {
                keyrings = try database.keyrings(vaultMaster: vaultMaster)
                for (id, ring) in keyrings.sorted(by: { $0.key < $1.key }) {
                    guard let export = exported.keys[id] else { log.pass("vault \(id): unwrapped, no exported key to compare"); continue }
                    log.expect(ring.keys[export.version] == export.key,
                               "vault \(id): vault_keys version \(export.version) unwrapped with vault_master "
                               + (ring.keys[export.version] == export.key ? "equals" : "differs from") + " the exported key")
                }
            } else {
                log.fail("vault_master was not unsealed: the restored vault_keys rows cannot be unwrapped")
            }
        } catch {
            log.fail("\(error)")
        }
        return (log.result("swtpm unseal", since: start, sensitive: true), keyrings)
    }
}
