import COpenSSL
import Foundation
import Support

/// What every TLS connection of one client trusts: the system's CA store, or the operator's CA file instead
/// (a private CA, as MinIO setups often use). Client method, TLS 1.2 at least, peer verification always on.
public final class TLSContext: @unchecked Sendable {
    // An SSL_CTX may be shared by connections on many threads once it is configured; it is never changed after init.
    let context: OpaquePointer

    /// `caFile`: a PEM file of CA certificates to trust in place of the system store.
    public init(caFile: String? = nil) throws {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSFailure(kind: .setup, detail: "cannot create a TLS context: \(TLSFailure.queuedErrors())")
        }
        self.context = context
        guard valkyrie_tls_set_min_version_1_2(context) == 1 else {
            throw TLSFailure(kind: .setup, detail: "cannot require TLS 1.2: \(TLSFailure.queuedErrors())")
        }
        // Servers that close without close_notify end the stream: HTTP's own framing catches a cut-short body.
        valkyrie_tls_ignore_unexpected_eof(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSFailure(kind: .setup, detail: "cannot load CA certificates from \(caFile): \(TLSFailure.queuedErrors())")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSFailure(kind: .setup, detail: "cannot load the system's CA certificates: \(TLSFailure.queuedErrors())")
            }
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// Why a TLS connection failed.
public struct TLSFailure: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The context could not be made (an unreadable or invalid CA file).
        case setup
        /// The server's certificate chain or name did not verify.
        case untrusted
        /// The handshake or a record failed for another reason (protocol version, not a TLS server, ...).
        case protocolFailure
    }

    public var kind: Kind
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail }

    /// The reasons of OpenSSL's queued errors on this thread, oldest first, as one line (the queue emptied).
    static func queuedErrors() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            // A system error (ERR_SYSTEM_FLAG set) carries an errno, which OpenSSL 3 has no reason string for.
            let reason = code & (1 << 31) != 0 ? String(cString: strerror(Int32(code & 0x7FFF_FFFF)))
                : ERR_reason_error_string(code).map { String(cString: $0) } ?? "OpenSSL error \(code)"
            if !reasons.contains(reason) { reasons.append(reason) }
        }
        return reasons.isEmpty ? "no detail from OpenSSL" : reasons.joined(separator: "; ")
    }
}
