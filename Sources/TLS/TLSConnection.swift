#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import Foundation
import POSIX

/// A TLS client session over a connected `TCPConnection`: SNI and the server name (or IP address) checked
/// against the certificate, which must chain to the context's CAs. Waits go through the TCP connection, so its
/// stall timeout and cancel signal bound the handshake and every read and write.
public final class TLSConnection {
    private let ssl: OpaquePointer
    private let tcp: TCPConnection

    /// Connects TLS over `tcp` and completes the handshake with the server named `host`.
    public init(over tcp: TCPConnection, context: TLSContext, host: String) throws {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw TLSFailure(kind: .setup, detail: "cannot create a TLS session: \(TLSFailure.queuedErrors())")
        }
        self.ssl = ssl
        self.tcp = tcp
        guard SSL_set_fd(ssl, tcp.descriptor) == 1 else {
            throw TLSFailure(kind: .setup, detail: "cannot attach TLS to the socket: \(TLSFailure.queuedErrors())")
        }
        if Self.isIPAddress(host) {
            // No SNI for an address (RFC 6066); the certificate must name it as an IP SAN.
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw TLSFailure(kind: .setup, detail: "cannot check the certificate against \(host): \(TLSFailure.queuedErrors())")
            }
        } else {
            guard valkyrie_tls_set_server_name(ssl, host) == 1, SSL_set1_host(ssl, host) == 1 else {
                throw TLSFailure(kind: .setup, detail: "cannot check the certificate against \(host): \(TLSFailure.queuedErrors())")
            }
        }
        _ = try drive("TLS handshake with \(host)") { SSL_connect(ssl) }
    }

    deinit {
        SSL_free(ssl)
        tcp.close()
    }

    /// Writes all of `data`.
    public func send(_ data: Data) throws {
        guard !data.isEmpty else { return }
        try data.withUnsafeBytes { raw in
            var written = 0
            _ = try drive("TLS write") { SSL_write_ex(ssl, raw.baseAddress, raw.count, &written) }
        }
    }

    /// Up to `count` bytes as soon as any arrive; empty when the server ended the stream.
    public func receive(upTo count: Int) throws -> Data {
        var buffer = Data(count: count)
        var got = 0
        let result = try buffer.withUnsafeMutableBytes { raw in
            try drive("TLS read") { SSL_read_ex(ssl, raw.baseAddress, count, &got) }
        }
        buffer.count = result > 0 ? got : 0
        return buffer
    }

    /// Runs an OpenSSL call until it completes, waiting on the socket whenever it wants to read or write.
    /// Returns its result (> 0), or 0 when the stream ended cleanly.
    private func drive(_ what: String, _ call: () -> Int32) throws -> Int32 {
        while true {
            ERR_clear_error()
            errno = 0
            let result = call()
            let code = errno
            if result > 0 { return result }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: try tcp.wait(for: .read)
            case SSL_ERROR_WANT_WRITE: try tcp.wait(for: .write)
            case SSL_ERROR_ZERO_RETURN: return 0
            case SSL_ERROR_SYSCALL where code != 0 && ERR_peek_error() == 0:
                throw NetworkError(kind: code == ETIMEDOUT ? .timedOut : .reset,
                                   detail: "\(what) failed: \(String(cString: strerror(code)))")
            case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
                throw NetworkError(kind: .reset, detail: "\(what) failed: the connection was closed")
            default:
                let verified = SSL_get_verify_result(ssl)
                if verified != Int(X509_V_OK) {
                    _ = TLSFailure.queuedErrors()
                    throw TLSFailure(kind: .untrusted, detail: "the server's certificate is not trusted: \(String(cString: X509_verify_cert_error_string(verified)))")
                }
                throw TLSFailure(kind: .protocolFailure, detail: "\(what) failed: \(TLSFailure.queuedErrors())")
            }
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }
}
