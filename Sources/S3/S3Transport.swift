import Foundation
import Support
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
        let (url, host, path, query) = try address(bucket: request.bucket, key: request.key, query: request.query)
        var headers = request.headers
        let now = Date()
        headers["host"] = host
        headers["x-amz-date"] = SigV4.timestamp(now)
        headers["x-amz-content-sha256"] = payloadHash
        if let token = credentials.sessionToken { headers["x-amz-security-token"] = token }
        let signature = SigV4.sign(
            SigV4.Request(method: request.method, encodedPath: path, query: query, headers: headers,
                          payloadHash: payloadHash),
            credentials: credentials, region: region, service: "s3", date: now)

        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        let stall = retry.stallTimeout.components
        urlRequest.timeoutInterval = Double(stall.seconds) + Double(stall.attoseconds) / 1e18
        for (name, value) in headers where name != "host" {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        urlRequest.setValue(signature.authorization, forHTTPHeaderField: "Authorization")
        // One connection per request. FoundationNetworking's libcurl, when it finds a kept-alive connection dead
        // only after it started sending on it, re-sends the headers on a new one but not the body, and the
        // request then hangs until it times out. A fresh connection costs a handshake; a hang costs minutes.
        urlRequest.setValue("close", forHTTPHeaderField: "Connection")
        if !request.body.isEmpty || request.method == "PUT" || request.method == "POST" {
            urlRequest.httpBody = request.body
            if request.headers["content-type"] == nil {
                urlRequest.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            }
        }

        let (data, response) = try await session.data(for: urlRequest)
        guard let http = response as? HTTPURLResponse else {
            throw S3Failure(kind: .transport("not an HTTP response", retryable: true))
        }
        var responseHeaders: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { responseHeaders[name.lowercased()] = value }
        }
        // A connection cut mid-body can surface as a short body rather than an error: never hand it on.
        if request.method != "HEAD", let declared = responseHeaders["content-length"].flatMap(Int.init),
           declared != data.count {
            throw S3Failure(kind: .transport("response cut short (\(data.count) of \(declared) bytes)", retryable: true))
        }
        return S3Response(status: http.statusCode, headers: responseHeaders, body: data)
    }

    /// The URL to send, the `host` header, and the canonical path and query that get signed. The URL carries
    /// exactly the signed encoding, so what the server sees is what was signed.
    private func address(bucket: String?, key: String?, query: [(name: String, value: String)]) throws
        -> (url: URL, host: String, path: String, query: [(name: String, value: String)]) {
        guard let scheme = endpoint.scheme, let endpointHost = endpoint.host, !endpointHost.isEmpty else {
            throw OperatorError.badInput("S3 endpoint \(endpoint.absoluteString) is not a URL with a host",
                                         remedy: "give the endpoint as http(s)://host[:port]")
        }
        let virtualHost = !pathStyle && bucket != nil
        var host = virtualHost ? "\(bucket!).\(endpointHost)" : endpointHost
        if let port = endpoint.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            host += ":\(port)"
        }
        let path = S3URI.encodePath(bucket: virtualHost ? nil : bucket, key: key)
        let queryText = SigV4.canonicalQuery(query)
        let text = "\(scheme)://\(host)\(path)\(queryText.isEmpty ? "" : "?" + queryText)"
        guard let url = URL(string: text) else {
            throw OperatorError.badInput("cannot form an S3 URL for s3://\(bucket ?? "")/\(key ?? "") at \(endpoint.absoluteString)",
                                         remedy: "check the endpoint and the bucket name")
        }
        return (url, host, path, query)
    }
}
