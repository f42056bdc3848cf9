import Foundation
import Testing
@testable import Vaulthalla

@Suite struct HostTests {
    @Test func pathsFollowTheRoot() {
        let real = HostPaths()
        #expect(real.configFile == "/etc/vaulthalla/config.yaml")
        #expect(real.sealedBlobFiles(.vaultMaster).privateArea == "/var/lib/vaulthalla/.sealed_vault_master.blob/vault_master.priv")
        #expect(real.sealedBlobFiles(.akMaster).publicArea == "/var/lib/vaulthalla/.sealed_ak_master.blob/ak_master.pub")
        #expect(real.swtpmState == "/var/lib/swtpm/vaulthalla")
        let lab = HostPaths(root: "/tmp/host/")
        #expect(lab.dataDirectory == "/tmp/host/var/lib/vaulthalla")
        #expect(lab.dbPasswordFile == "/tmp/host/run/vaulthalla/db_password")
        #expect(lab.bodyPath("A/B") == "/tmp/host/var/lib/vaulthalla/A/B")
        #expect(HostPaths.defaultDataExclusions == [".fuse-plaintext", ".cache"])
    }

    @Test func tpmModeFollowsTheDaemonsOrder() {
        let none: (String) -> Bool = { _ in false }
        #expect(TPMMode.select(environment: [:], deviceExists: none) == .swtpm(tcti: "swtpm:host=127.0.0.1,port=2321"))
        #expect(TPMMode.select(environment: [:], deviceExists: { $0 == "/dev/tpm0" }) == .device(path: "/dev/tpm0"))
        #expect(TPMMode.select(environment: [:], deviceExists: { _ in true }).tcti == "device:/dev/tpmrm0")
        let env = ["TPM2TOOLS_TCTI": "mssim:port=1", "TSS2_TCTI": "swtpm:port=9", "VH_TPM_TCTI": ""]
        #expect(TPMMode.select(environment: env, deviceExists: { _ in true }) == .environment(variable: "TSS2_TCTI", tcti: "swtpm:port=9"))
        #expect(TPMMode.select(environment: ["VH_TPM_TCTI": "device:/dev/x"].merging(env) { a, _ in a }, deviceExists: none).tcti == "device:/dev/x")
        #expect(TPMMode.device(path: "/dev/tpmrm0").isSoftware == false)
        #expect(TPMMode.swtpm(tcti: TPMMode.defaultSwtpmTCTI).isSoftware)
    }

    @Test func configRoundTripsAndReadsTheShippedLayout() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vh-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let defaults = VaulthallaConfig.defaults(databaseHost: "/run/postgresql", databasePort: 5433)
        try defaults.yaml().write(toFile: "\(dir)/a.yaml", atomically: true, encoding: .utf8)
        #expect(try VaulthallaConfig.load(path: "\(dir)/a.yaml") == defaults)

        // The shipped file's shape: more sections and keys than the model knows, comments, flow lists.
        let shipped = """
            websocket_server:
              enabled: true
              host: 0.0.0.0
              port: 36969
              max_connections: 1024
              max_upload_size_mb: 2048
            http_preview_server: {enabled: true, host: 0.0.0.0, port: 36970, max_connections: 512, max_preview_size_mb: 512}
            database:
              host: localhost   # PostgreSQL host
              port: 5432
              name: vaulthalla
              user: vaulthalla
              pool_size: 10
            auth: {access_token_expiry_minutes: 60, refresh_token_expiry_days: 7}
            sync: {event_audit_retention_days: 30, event_audit_max_entries: 5000}
            pricing: {storage_rates_api: {enabled: true}}
            sharing: {enabled: true, enable_public_links: false}
            caching: {max_size_mb: 10240, thumbnails: {formats: [jpg, png], sizes: [128, 256]}}
            auditing:
              audit_log: {retention_days: 30}
              encryption_waivers: {retention_days: 180}
              files_trashed: {retention_days: 60}
            dev: {enabled: false, init_r2_test_vault: false}
            """
        try shipped.write(toFile: "\(dir)/b.yaml", atomically: true, encoding: .utf8)
        let config = try VaulthallaConfig.load(path: "\(dir)/b.yaml")
        #expect(config.database.name == "vaulthalla" && config.database.port == 5432)
        #expect(config.sharing?.enablePublicLinks == false)
        #expect(config.auditing?.filesTrashed.retentionDays == 60)

        // An older file with fewer sections still reads; one without `database` does not.
        try "database: {host: db, port: 5432, name: vaulthalla, user: vaulthalla, pool_size: 4}\n"
            .write(toFile: "\(dir)/old.yaml", atomically: true, encoding: .utf8)
        #expect(try VaulthallaConfig.load(path: "\(dir)/old.yaml").database.host == "db")
        try "auth: {access_token_expiry_minutes: 5, refresh_token_expiry_days: 1}\n"
            .write(toFile: "\(dir)/nodb.yaml", atomically: true, encoding: .utf8)
        #expect(throws: Error.self) { try VaulthallaConfig.load(path: "\(dir)/nodb.yaml") }

        try "database: [not, a, mapping]".write(toFile: "\(dir)/c.yaml", atomically: true, encoding: .utf8)
        #expect(throws: Error.self) { try VaulthallaConfig.load(path: "\(dir)/c.yaml") }
        #expect(throws: Error.self) { try VaulthallaConfig.load(path: "\(dir)/missing.yaml") }
    }
}
