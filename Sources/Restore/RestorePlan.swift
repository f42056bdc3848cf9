import Capture
import Catalog
import Foundation
import Support
import Vaulthalla

/// `valkyrie restore-plan SET`: Vaulthalla's restore outline (vaulthalla-formats.md, "Restore facts") written
/// out for one set, with its versions, paths, vault names and a known file per vault.
public struct RestorePlan: Codable, Sendable {
    public struct Step: Codable, Sendable {
        public var title: String
        public var commands: [String]
        public var note: String?
    }

    public struct KnownFile: Codable, Sendable {
        public var vault: String
        public var path: String
        public var size: Int64
    }

    public var set: String
    public var host: String
    public var vaulthallaVersion: String
    public var packageVersion: String?
    public var postgresServerVersion: Int
    public var tpmMode: String
    public var s3Vaults: [String]
    public var knownFiles: [KnownFile]
    public var steps: [Step]

    public static func make(_ source: SetSource) async throws -> RestorePlan {
        let record = try await source.versionRecord()
        let set = source.set.name
        let items = Set(try source.catalog.details(of: source.set).items.map(\.item))
        let swtpm = items.contains(SetLayout.swtpm)
        let vaults = record.vaults.filter { !$0.deleted }
        let s3 = vaults.filter { $0.type == "s3" }.map(\.name).sorted()

        // One file per vault to read back: the first non-empty file of the vault in this set whose body the set's own
        // key export opens (stored in plaintext, or on the vault's current key version, the one the export holds).
        let currentKeys = Dictionary(vaults.map { ($0.name, $0.currentKeyVersion) }, uniquingKeysWith: { first, _ in first })
        var known: [String: KnownFile] = [:]
        for file in try source.catalog.vaultEntries(of: source.set) where file.entry.kind == .file {
            let entry = file.entry
            guard (entry.iv ?? "").isEmpty || entry.keyVersion == currentKeys[entry.vault] ?? nil else { continue }
            if let current = known[entry.vault], current.size > 0 || entry.size == 0 { continue }
            known[entry.vault] = KnownFile(vault: entry.vault, path: entry.path, size: entry.size)
        }
        let knownFiles = vaults.compactMap { known[$0.name] }

        let version = record.vhVersion.replacingOccurrences(of: "Vaulthalla v", with: "")
        var steps: [Step] = []
        steps.append(Step(
            title: "Install exactly \(record.vhVersion) (its migrations are pinned by checksum; another version refuses this database)",
            commands: [record.package.map { "apt-get install vaulthalla=\($0.version)" } ?? "apt-get install vaulthalla=\(version)*"],
            note: record.package?.origin.map { "package origin: \($0)" }))
        let services = Defaults.services.filter { swtpm || $0 != "vaulthalla-swtpm.service" }
        steps.append(Step(title: "Stop the services", commands: ["systemctl stop \(services.joined(separator: " "))"], note: nil))
        var files = [
            "valkyrie restore \(set):/\(SetLayout.etc) --to /etc --overwrite",
            "valkyrie restore \(set):/\(SetLayout.varLib) --to /var/lib --overwrite",
        ]
        if swtpm { files.append("valkyrie restore \(set):/\(SetLayout.swtpm) --to /var/lib/swtpm --overwrite") }
        steps.append(Step(title: "Restore /etc/vaulthalla and /var/lib/vaulthalla\(swtpm ? ", then the swtpm state" : "")", commands: files,
                          note: swtpm ? "restoring swtpm state on another host is a sensitive security event: it unseals every secret" : nil))
        steps.append(Step(
            title: "Restore the database (PostgreSQL \(record.postgresServerVersion / 10000) or newer)",
            commands: ["valkyrie restore \(set):/\(SetLayout.postgres)/vaulthalla.dump --to /root/valkyrie-restore",
                       "pg_restore --clean --if-exists --exit-on-error --dbname vaulthalla /root/valkyrie-restore/vaulthalla.dump"],
            note: nil))
        steps.append(Step(
            title: "Re-seed the DB password if the connection changed (read once at start-up, then deleted)",
            commands: ["install -d -m 0755 /run/vaulthalla",
                       "valkyrie restore \(set):/\(SetLayout.exports)/secrets.json.asc --to /root/valkyrie-restore",
                       "gpg --decrypt /root/valkyrie-restore/secrets.json.asc | jq -jr '.[] | select(.name == \"db-password\") | .secret' | install -m 0600 -o \(Defaults.serviceUser) -g \(Defaults.serviceUser) /dev/stdin /run/vaulthalla/db_password"],
            note: nil))
        steps.append(Step(title: "Start the services", commands: ["systemctl start \(services.reversed().joined(separator: " "))"], note: nil))
        steps.append(Step(title: "Check the daemon", commands: ["vh status"], note: "expect `vh status: healthy`"))
        if !s3.isEmpty {
            steps.append(Step(title: "Check each S3 vault's sync", commands: s3.map { "vh vault sync info \(shellQuoted($0))" }, note: nil))
        }
        steps.append(Step(
            title: "Read back one known file per vault and compare",
            commands: knownFiles.map {
                "valkyrie restore --vault \(shellQuoted($0.vault)) --set \(set) \(shellQuoted($0.path)) --to /root/valkyrie-check  # \($0.size) bytes"
            },
            note: "compare each with the same file read through Vaulthalla"))
        return RestorePlan(set: set, host: source.set.host, vaulthallaVersion: record.vhVersion, packageVersion: record.package?.version,
                           postgresServerVersion: record.postgresServerVersion, tpmMode: record.tpmMode, s3Vaults: s3,
                           knownFiles: knownFiles, steps: steps)
    }

    public var text: String {
        var lines = ["Restore plan for set \(set) (host \(host), \(vaulthallaVersion), TPM \(tpmMode))", ""]
        for (number, step) in steps.enumerated() {
            lines.append("\(number + 1). \(step.title)")
            lines += step.commands.map { "     \($0)" }
            if let note = step.note { lines.append("     (\(note))") }
        }
        return lines.joined(separator: "\n")
    }
}

func shellQuoted(_ text: String) -> String {
    text.allSatisfy { $0.isLetter || $0.isNumber || "-_./:".contains($0) } && !text.isEmpty
        ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
