import Foundation
import Support

/// One S3 call as the client builds it, before signing.
struct S3Request {
    /// The S3 action, for messages (`GetObject`, `UploadPart`, ...).
    var operation: String
    var method: String
    var bucket: String?
    var key: String?
    var query: [(name: String, value: String)] = []
    /// Headers to send and sign (x-amz-*, range, content-md5); `host`, `x-amz-date` and
    /// `x-amz-content-sha256` are added when signing.
    var headers: [String: String] = [:]
    var body = Data()
}

struct S3Response {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: Data
}

extension S3Client {
    /// Sends `request`, retrying what the retry policy allows, and returns a 2xx answer; anything else is
    /// thrown as an `OperatorError` naming the operation, object and endpoint.
    func perform(_ request: S3Request) async throws -> S3Response {
        do {
            return try await performRaw(request).get()
        } catch let failure as Failed {
            throw failure.failure.operatorError(request.operation, endpoint: endpoint, bucket: request.bucket,
                                                key: request.key, attempts: failure.attempts)
        }
    }

    /// Like `perform`, but hands the last failure back (for callers that treat some codes as answers).
    func performRaw(_ request: S3Request) async throws -> Result<S3Response, Failed> {
        let clock = ContinuousClock()
        let start = clock.now
        let payloadHash = SigV4.sha256Hex(request.body)
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let failure: S3Failure
            do {
                let response = try await send(request, payloadHash: payloadHash)
                if (200..<300).contains(response.status), !Self.isErrorIn200(request, response) {
                    return .success(response)
                }
                failure = S3Failure.from(status: response.status, body: response.body)
            } catch let error as S3Failure {
                failure = error
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as OperatorError {
                // The client's own settings (endpoint, CA file): no attempt can succeed.
                throw error
            } catch {
                failure = S3Failure.from(transport: error)
            }
            let delay = retry.delay(after: attempt)
            guard failure.isRetryable, attempt < retry.maxAttempts,
                  clock.now - start + delay < retry.maxElapsed else {
                return .failure(Failed(failure: failure, attempts: attempt))
            }
            try await Task.sleep(for: delay)
        }
    }

    /// CompleteMultipartUpload can answer 200 and then report an error in the body.
    private static func isErrorIn200(_ request: S3Request, _ response: S3Response) -> Bool {
        request.operation == "CompleteMultipartUpload" && S3XML.parse(response.body)?.name == "Error"
    }

    struct Failed: Error {
        var failure: S3Failure
        var attempts: Int
    }

    /// One attempt: sign at the current time and send.
    private func send(_ request: S3Request, payloadHash: String) async throws -> S3Response {
        let target = try address(bucket: request.bucket, key: request.key, query: request.query)
        var headers = request.headers
        let now = Date()
        headers["host"] = target.hostHeader
        headers["x-amz-date"] = SigV4.timestamp(now)
        headers["x-amz-content-sha256"] = payloadHash
        if let token = credentials.sessionToken { headers["x-amz-security-token"] = token }
        let signature = SigV4.sign(
            SigV4.Request(method: request.method, encodedPath: target.path, query: target.query, headers: headers,
                          payloadHash: payloadHash),
            credentials: credentials, region: region, service: "s3", date: now)

        // The request target carries exactly the signed encoding, so what the server sees is what was signed.
        let queryText = SigV4.canonicalQuery(target.query)
        var head = "\(request.method) \(target.path)\(queryText.isEmpty ? "" : "?" + queryText) HTTP/1.1\r\n"
        head += "Host: \(target.hostHeader)\r\n"
        for (name, value) in headers where name != "host" { head += "\(name): \(value)\r\n" }
        head += "Authorization: \(signature.authorization)\r\n"
        let hasBody = !request.body.isEmpty || request.method == "PUT" || request.method == "POST"
        if hasBody {
            head += "Content-Length: \(request.body.count)\r\n"
            if request.headers["content-type"] == nil { head += "Content-Type: application/octet-stream\r\n" }
        }
        // One connection per request. A kept-alive connection can turn out dead only once the request is on
        // its way, and whether the server saw it is then unknown; libcurl re-sent the headers but not the body
        // and hung until the time-out. A fresh connection costs a handshake; a hang costs minutes.
        head += "Connection: close\r\n\r\n"

        let exchange = HTTPExchange(host: target.connectHost, port: target.port, tls: try tlsContext(), method: request.method,
                                    head: Data(head.utf8), body: hasBody ? request.body : Data(),
                                    stallTimeout: retry.stallTimeout)
        return try await exchange.run()
    }

    /// Where a request goes and what gets signed: the host to connect to, its port, the `Host` header, and
    /// the canonical path and query.
    private func address(bucket: String?, key: String?, query: [(name: String, value: String)]) throws
        -> (connectHost: String, port: Int, hostHeader: String, path: String, query: [(name: String, value: String)]) {
        guard let scheme = endpoint.scheme, scheme == "http" || scheme == "https",
              let endpointHost = endpoint.host, !endpointHost.isEmpty else {
            throw OperatorError.badInput("S3 endpoint \(endpoint.absoluteString) is not an http(s) URL with a host",
                                         remedy: "give the endpoint as http(s)://host[:port]")
        }
        let virtualHost = !pathStyle && bucket != nil
        let bare = endpointHost.hasPrefix("[") ? String(endpointHost.dropFirst().dropLast()) : endpointHost
        let connectHost = virtualHost ? "\(bucket!).\(bare)" : bare
        var hostHeader = connectHost.contains(":") ? "[\(connectHost)]" : connectHost
        let port = endpoint.port ?? (scheme == "https" ? 443 : 80)
        if endpoint.port != nil, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            hostHeader += ":\(port)"
        }
        return (connectHost, port, hostHeader, S3URI.encodePath(bucket: virtualHost ? nil : bucket, key: key), query)
    }
}
