import Foundation
import Support
import TPM
import Vaulthalla

/// Seals the host's secrets into its own swtpm, as Vaulthalla does, into `.sealed_<name>.blob/<name>.{priv,pub}`.
enum Sealing {
    static func secretValue(_ secret: SealedSecret, _ state: LabState) -> Data {
        switch secret {
        case .psql: Data(state.secrets.dbPassword.utf8)
        case .master: state.masterKey
        case .vaultMaster: state.vaultMasterKey
        case .akMaster: state.akMasterKey
        }
    }

    /// Starts the host's swtpm, seals the four secrets, and stops it again.
    static func seal(paths: LabPaths, state: LabState) throws {
        try withSwtpm(paths) { tpm in
            for secret in SealedSecret.allCases {
                let blob = try tpm.seal(secretValue(secret, state))
                let files = paths.host.sealedBlobFiles(secret)
                try makeDirectory(paths.host.sealedBlobDirectory(secret), mode: 0o700)
                try writeFile(files.privateArea, blob.privateArea, mode: 0o600)
                try writeFile(files.publicArea, blob.publicArea, mode: 0o600)
            }
        }
    }

    /// Unseals every `.sealed_*` blob with the host's swtpm state.
    static func unsealAll(paths: LabPaths) throws -> [SealedSecret: Data] {
        try withSwtpm(paths) { tpm in
            var out: [SealedSecret: Data] = [:]
            for secret in SealedSecret.allCases {
                let files = paths.host.sealedBlobFiles(secret)
                guard let priv = FileManager.default.contents(atPath: files.privateArea),
                      let pub = FileManager.default.contents(atPath: files.publicArea) else {
                    throw OperatorError.failed("sealed blob \(paths.host.sealedBlobDirectory(secret)) is missing")
                }
                out[secret] = try tpm.unseal(SealedBlob(privateArea: priv, publicArea: pub))
            }
            return out
        }
    }

    /// Runs `body` against the host's swtpm: the running one (`vaulthalla-lab swtpm start`) or one started for it.
    static func withSwtpm<T>(_ paths: LabPaths, _ body: (TPMContext) throws -> T) throws -> T {
        if let tcti = LabSwtpm.runningTCTI(paths) {
            return try body(try connect(tcti))
        }
        let swtpm = try SwtpmProcess.start(stateDirectory: paths.host.swtpmState, logFile: "\(paths.labDirectory)/swtpm.log")
        defer { swtpm.stop() }
        return try body(try connect(swtpm.tcti))
    }

    /// swtpm may take a moment to accept connections after it daemonises.
    private static func connect(_ tcti: String) throws -> TPMContext {
        var lastError: Error?
        for _ in 0..<20 {
            do { return try TPMContext(tcti: tcti) } catch {
                lastError = error
                usleep(100_000)
            }
        }
        throw lastError!
    }
}
