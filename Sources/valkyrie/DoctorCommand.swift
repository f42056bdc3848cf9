import ArgumentParser
import Capture
import Foundation
import GPG
import LibPQ
import Repository
import Support
import Vaulthalla

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check every setting a backup needs, and say what is wrong with each.",
        discussion: "Checks: PostgreSQL reachable, vh answers, the GPG recipient can encrypt, the repository opens, the TPM mode, free space. Exit 1 if any check fails.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions

    struct Check: Encodable {
        var name: String
        var ok: Bool
        var detail: String
    }

    func run() async throws {
        let config = try global.loadConfiguration()
        var checks: [Check] = []
        func check(_ name: String, _ body: () async throws -> String) async {
            do { checks.append(Check(name: name, ok: true, detail: try await body())) } catch {
                checks.append(Check(name: name, ok: false, detail: (error as? OperatorError)?.description ?? "\(error)"))
            }
        }
        var settings: CaptureSettings?
        await check("config") {
            settings = try config.captureSettings(valkyrieVersion: ValkyrieVersion.current)
            return "\(global.configPath): host \(settings!.hostName), data \(settings!.dataDirectory)"
        }
        if let settings {
            await check("postgres") {
                let snapshot = try DatabaseSnapshot(settings.database)
                defer { snapshot.close() }
                let vaults = try snapshot.vaults()
                let dump = try Subprocess.run(settings.database.binDirectory.map { "\($0)/pg_dump" } ?? "pg_dump", ["--version"])
                guard dump.status == 0 else { throw OperatorError.failed("pg_dump does not run: \(dump.stderrSummary)", remedy: "set postgres.bin_dir") }
                return "\(Conninfo.describe(settings.database.conninfo)): server \(snapshot.serverVersion), \(vaults.count) vaults; "
                    + dump.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            await check("vh") {
                let status = try Subprocess.run(settings.vh, ["status"])
                let first = status.stdoutText.split(whereSeparator: \.isNewline).first.map(String.init) ?? status.stderrSummary
                guard status.status == 0 else { throw OperatorError.failed("`\(settings.vh) status` exit \(status.status): \(first)", remedy: "start the Vaulthalla daemon") }
                return first
            }
            await check("recipient") {
                let gpg = try GPGContext(homeDirectory: settings.exports.gnupgHome)
                guard let key = try gpg.key(settings.exports.recipient) else {
                    throw OperatorError.badInput("no public key \(settings.exports.recipient) in the keyring", remedy: "gpg --import the operator's public key")
                }
                guard key.canEncrypt else { throw OperatorError.badInput("key \(key.fingerprint) cannot encrypt", remedy: "use a valid encryption key") }
                _ = try gpg.encrypt(Data("valkyrie doctor".utf8), to: [key.fingerprint])
                return "\(key.fingerprint) \(key.userIDs.first ?? "")\(key.hasSecret ? " (secret key here: exports are also decrypted and checked)" : "")"
            }
            await check("s3") {
                guard let access = settings.s3 else { return "not configured (needed only for S3 vaults)" }
                return "\(access.endpoint.absoluteString), region \(access.region)"
            }
            await check("tpm") {
                let mode = TPMMode.select()
                let swtpm = FileManager.default.fileExists(atPath: settings.swtpmDirectory)
                return "\(mode.tcti) (\(mode.isSoftware ? "software: the swtpm state is captured" : "hardware: only the key exports survive the host"))"
                    + (swtpm ? ", swtpm state at \(settings.swtpmDirectory)" : "")
            }
        }
        await check("repository") {
            let repo = try await repository.open(global)
            return "\(repo.backend.location): \(repo.blobCount) blobs"
        }
        await check("free space") {
            let location = repository.location(config)
            guard !location.hasPrefix("s3://") else { return "object storage" }
            var existing = location
            while !FileManager.default.fileExists(atPath: existing) { existing = (existing as NSString).deletingLastPathComponent }
            let free = (try FileManager.default.attributesOfFileSystem(forPath: existing)[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
            guard free > 1 << 30 else { throw OperatorError.failed("only \(BackupCommand.bytes(free)) free at \(existing)", remedy: "free space for the repository") }
            return "\(BackupCommand.bytes(free)) free at \(existing)"
        }
        let failed = checks.filter { !$0.ok }.count
        global.output.emit(checks) {
            checks.map { "\($0.ok ? "ok  " : "FAIL") \($0.name): \($0.detail)" }.joined(separator: "\n")
        }
        if failed > 0 { throw CommandExit(status: .failed) }
    }
}
