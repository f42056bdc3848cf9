import ArgumentParser
import Foundation
import Repository
import Support

/// Where the repository is and how to open it, for every command that touches one.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "Repository: a folder or s3://bucket/prefix (default: $VALKYRIE_REPOSITORY, the config's `repository`, /var/backups/valkyrie).")
    var repo: String?

    @Option(name: .customLong("password-file"), help: "File holding the repository passphrase (default: $VALKYRIE_PASSWORD).")
    var passwordFile: String?

    @Option(name: .customLong("key-file"), help: ArgumentHelp(
        "Key file of a key-file slot, tried before any other credential (default: $VALKYRIE_KEY_FILE, the config's `key_file`).",
        discussion: "With `init` and `key add`: the key file of a new slot, created when missing."))
    var keyFile: String?

    static let defaultLocation = "/var/backups/valkyrie"

    /// `--repo`, then `$VALKYRIE_REPOSITORY`, then the config's `repository`, then the default.
    func location(_ config: Configuration) -> String {
        repo ?? ProcessInfo.processInfo.environment["VALKYRIE_REPOSITORY"] ?? config.repository ?? Self.defaultLocation
    }

    func backend(_ config: Configuration) throws -> any Backend {
        let location = location(config)
        guard location.hasPrefix("s3://") else { return LocalBackend(path: location) }
        // Endpoint, region, path style and credentials from the config's `s3`, defaults from the environment.
        let s3 = config.s3
        return try S3Backend(location: location, settings: S3BackendSettings(
            endpoint: s3?.endpoint, region: s3?.region, pathStyle: s3?.pathStyle, caFile: s3?.caFile,
            accessKeyID: s3?.accessKeyID, secretAccessKey: s3?.secretAccessKey))
    }

    /// The passphrase from `--password-file` or `$VALKYRIE_PASSWORD`, never from a flag value.
    func passphrase() throws -> Data? {
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw OperatorError.badInput("password file \(passwordFile) cannot be read", remedy: "check the path and its permissions")
            }
            return Self.trimmingNewline(data)
        }
        return ProcessInfo.processInfo.environment["VALKYRIE_PASSWORD"].map { Data($0.utf8) }
    }

    /// The config's `password_file`, for unattended backups.
    private func configPassphrase(_ config: Configuration) throws -> Data? {
        guard let file = config.passwordFile else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw OperatorError.badInput("password_file \(file) cannot be read", remedy: "check the path and its permissions")
        }
        return Self.trimmingNewline(data)
    }

    @Option(name: .long, help: "TPM for TPM slots, as a TCTI (default: $VALKYRIE_TPM_TCTI, the config's `tpm_tcti`).")
    var tcti: String?

    /// The TPM to use: `--tcti`, `$VALKYRIE_TPM_TCTI`, the config's `tpm_tcti`.
    func tpm(_ config: Configuration) -> String? {
        tcti ?? ProcessInfo.processInfo.environment["VALKYRIE_TPM_TCTI"] ?? config.tpmTCTI
    }

    /// The key file: `--key-file`, `$VALKYRIE_KEY_FILE`, the config's `key_file`.
    func keyFilePath(_ config: Configuration) -> String? {
        keyFile ?? ProcessInfo.processInfo.environment["VALKYRIE_KEY_FILE"] ?? config.keyFile
    }

    /// Every credential the operator offers, in the order they are tried: the key file (no KDF at all), the
    /// passphrase, TPM, then the GPG keyring of $GNUPGHOME (tried only when the repository has GPG slots).
    /// A key file that does not exist is passed over, with a warning, when a passphrase or TPM is offered too: a
    /// host rebuilt from its old config has no key file yet, and the passphrase must still open the repository.
    func unlockMethods(_ config: Configuration) throws -> [Unlock] {
        var others: [Unlock] = []
        if let passphrase = try passphrase() ?? configPassphrase(config) { others.append(.passphrase(passphrase)) }
        if let tcti = tpm(config) { others.append(.tpm(tcti: tcti)) }
        var methods: [Unlock] = []
        if let path = keyFilePath(config) {
            if !others.isEmpty && !FileManager.default.fileExists(atPath: path) {
                FileHandle.standardError.write(Data("valkyrie: warning: key file \(path) does not exist; opening with the other credentials\n".utf8))
            } else {
                methods.append(.keyFile(try KeyFile.read(path), path: path))
            }
        }
        return methods + others + [.gpg(homeDirectory: nil)]
    }

    /// Opens the repository with the operator's credentials; `cacheBytes` bounds its cache of blobs read.
    func open(_ global: GlobalOptions, cacheBytes: Int = 64 << 20) async throws -> Repository {
        let config = try global.loadConfiguration()
        let repository = try await Repository.open(backend: try backend(config), unlock: try unlockMethods(config),
                                                   cacheBytes: cacheBytes)
        ChainSync.opened(repository)
        return repository
    }

    static func trimmingNewline(_ data: Data) -> Data {
        var data = data
        while let last = data.last, last == 0x0A || last == 0x0D { data.removeLast() }
        return data
    }
}
