import Foundation
import POSIX
import TLS

/// One HTTP/1.1 request over a connection of its own (see `S3Client.send` for why never a kept-alive one).
struct HTTPExchange: Sendable {
    /// The host to resolve, connect to and (with TLS) verify the certificate against.
    var host: String
    var port: Int
    /// Present for https.
    var tls: TLSContext?
    var method: String
    /// Request line, headers and the empty line, as sent.
    var head: Data
    var body: Data
    /// Bounds connecting, the handshake and every read and write.
    var stallTimeout: Duration

    /// Runs the exchange on a thread of its own: its socket waits block, and Swift's cooperative pool (one thread
    /// per core) must not be held by them while several transfers run at once. Cancelling the task ends the
    /// waits at once and throws `CancellationError`.
    func run() async throws -> S3Response {
        let signal = try CancelSignal()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<S3Response, Error>) in
                let thread = Thread {
                    continuation.resume(with: Result {
                        do {
                            return try exchange(signal)
                        } catch let error as NetworkError where error.kind == .cancelled {
                            throw CancellationError()
                        }
                    })
                }
                thread.name = "valkyrie-s3"
                thread.start()
            }
        } onCancel: {
            signal.cancel()
        }
    }

    private func exchange(_ signal: CancelSignal) throws -> S3Response {
        let tcp = try TCPConnection.connect(host: host, port: port, stallTimeout: stallTimeout, cancel: signal)
        let stream: any HTTPStream = if let tls { try TLSConnection(over: tcp, context: tls, host: host) } else { tcp }
        var reader = HTTPResponseReader(stream)
        do {
            try stream.send(head)
            try stream.send(body)
        } catch let error as NetworkError where error.kind == .reset {
            // A server may answer and close before it read the whole body (an early refusal): its answer says
            // more than the broken pipe.
            guard let early = try? reader.read(forMethod: method) else { throw error }
            return early
        }
        return try reader.read(forMethod: method)
    }
}
