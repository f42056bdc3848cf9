import CGPGME
import Foundation
import Support

/// One gpgme context for OpenPGP over a GnuPG home directory (gpg and gpg-agent do the work), released when
/// the object goes away. Secret keys with a passphrase are unlocked by gpg-agent's own pinentry.
public final class GPGContext {
    /// The GnuPG home in use, or nil for GnuPG's default (`$GNUPGHOME` or `~/.gnupg`).
    public let homeDirectory: String?
    let ctx: gpgme_ctx_t

    public init(homeDirectory: String? = nil) throws {
        guard let version = Self.libraryVersion else {
            throw OperatorError.failed("gpgme could not be initialised", remedy: "reinstall libgpgme11")
        }
        if let homeDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: homeDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw OperatorError.badInput("GnuPG home \(homeDirectory) does not exist",
                                             remedy: "create it with `gpg --homedir \(homeDirectory) --list-keys` or point at the right one")
            }
        }
        self.homeDirectory = homeDirectory
        var ctx: gpgme_ctx_t?
        var err = gpgme_new(&ctx)
        guard err == 0, let ctx else {
            throw OperatorError.failed("cannot create a gpgme \(version) context: \(Self.describe(err))")
        }
        self.ctx = ctx
        err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        // Only for another home: the call asks `gpg --version` again, and the default engine is what gpgme_new set.
        if err == 0, let homeDirectory { err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, homeDirectory) }
        guard err == 0 else {
            throw OperatorError.failed("cannot use GnuPG with home \(homeDirectory ?? "(default)"): \(Self.describe(err))",
                                       remedy: "check that gnupg (gpg 2.2 or later) is installed")
        }
    }

    deinit { gpgme_release(ctx) }

    /// gpgme must be told its version requirement once before the first context. Before that, its global flags:
    /// `disable-gpgconf` keeps it to OpenPGP over the `gpg` on PATH, so that the first context no longer runs
    /// `gpgconf` three times and `gpgsm --version` to list engines Valkyrie never uses (only `gpg --version`
    /// remains); `require-gnupg` refuses a gpg older than 2.2 when the context is made.
    private static let libraryVersion: String? = {
        _ = gpgme_set_global_flag("disable-gpgconf", "1")
        _ = gpgme_set_global_flag("require-gnupg", "2.2.0")
        return gpgme_check_version(nil).map { String(cString: $0) }
    }()

    // MARK: - gpgme data buffers, owned only inside one call

    /// Runs `body` with a gpgme data object holding a copy of `input`.
    func withInput<T>(_ input: Data, _ body: (gpgme_data_t) throws -> T) throws -> T {
        var dh: gpgme_data_t?
        // An empty Data may have no base address; gpgme wants a valid pointer even for size 0.
        let err = (input.isEmpty ? Data([0]) : input).withUnsafeBytes { buffer in
            gpgme_data_new_from_mem(&dh, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), input.count, 1)
        }
        guard err == 0, let dh else { throw failure("cannot hand data to gpgme", err) }
        defer { gpgme_data_release(dh) }
        return try body(dh)
    }

    /// Runs `body` with an empty gpgme data object and returns what was written to it. The buffer is zeroed
    /// before gpgme frees it, also when `body` fails, since it may hold (partial) plaintext.
    func collectOutput(_ body: (gpgme_data_t) throws -> Void) throws -> Data {
        var dh: gpgme_data_t?
        let err = gpgme_data_new(&dh)
        guard err == 0, let dh else { throw failure("cannot allocate a gpgme buffer", err) }
        var failure: (any Error)?
        do { try body(dh) } catch { failure = error }
        var length = 0
        let buffer = gpgme_data_release_and_get_mem(dh, &length)
        defer {
            if let buffer {
                explicit_bzero(buffer, length)
                gpgme_free(buffer)
            }
        }
        if let failure { throw failure }
        return buffer.map { Data(bytes: $0, count: length) } ?? Data()
    }

    // MARK: - errors

    func failure(_ problem: String, _ err: gpgme_error_t, remedy: String? = nil) -> OperatorError {
        .failed("\(problem): \(Self.describe(err))", remedy: remedy)
    }

    static func describe(_ err: gpgme_error_t) -> String {
        gpgme_strerror(err).map { String(cString: $0) } ?? "gpgme error \(err)"
    }

    static func code(_ err: gpgme_error_t) -> gpgme_err_code_t { gpgme_err_code(err) }

    /// A fingerprint or long key id as given (spaces allowed, `0x` prefix allowed), upper-case; anything else
    /// is refused, so a user-ID pattern can never pick a different key.
    static func normalizedFingerprint(_ text: String) throws -> String {
        var hex = text.filter { !$0.isWhitespace }.uppercased()
        if hex.hasPrefix("0X") { hex.removeFirst(2) }
        guard [16, 40, 64].contains(hex.count), hex.allSatisfy(\.isHexDigit) else {
            throw OperatorError.badInput("\(text) is not a key fingerprint",
                                         remedy: "give the full fingerprint (40 hex digits), as `gpg --list-keys --with-colons` shows it")
        }
        return hex
    }
}
