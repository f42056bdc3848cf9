import Foundation
import POSIX
import Support
import TLS

/// Why one request failed, before it is turned into an operator's message.
struct S3Failure: Error {
    enum Kind {
        /// The service answered with an error status; `code` is S3's error code (or `HTTP nnn` without a body).
        case service(status: Int, code: String, message: String)
        /// No usable answer: refused, reset, cut mid-response, timed out (retryable), or cancelled (not).
        case transport(String, retryable: Bool)
        /// The server's TLS certificate did not verify: never retried, the operator must act.
        case untrusted(String)
    }

    var kind: Kind

    /// S3 codes that mean "slow down" or "try again", whatever their status.
    static let retryableCodes: Set<String> = [
        "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
        "RequestTimeout", "InternalError", "ServiceUnavailable",
    ]

    /// Codes that point at the operator's settings (bucket, credentials, region): bad input, exit 2.
    static let settingCodes: Set<String> = [
        "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName",
        "AuthorizationHeaderMalformed", "InvalidToken", "ExpiredToken", "PermanentRedirect", "IllegalLocationConstraintException",
    ]

    var code: String? {
        if case let .service(_, code, _) = kind { return code }
        return nil
    }

    var status: Int? {
        if case let .service(status, _, _) = kind { return status }
        return nil
    }

    var isRetryable: Bool {
        switch kind {
        case let .service(status, code, _): status >= 500 || status == 429 || Self.retryableCodes.contains(code)
        case let .transport(_, retryable): retryable
        case .untrusted: false
        }
    }

    /// The failure of an error answer: code and message from S3's `<Error>` document when there is one.
    static func from(status: Int, body: Data) -> S3Failure {
        if let error = S3XML.parse(body), error.name == "Error", let code = error["Code"]?.text, !code.isEmpty {
            return S3Failure(kind: .service(status: status, code: code, message: error["Message"]?.text ?? ""))
        }
        // HEAD answers and some proxies carry no body: name the status the way S3 would.
        let code = switch status {
        case 403: "AccessDenied"
        case 404: "NotFound"
        case 503: "ServiceUnavailable"
        default: "HTTP \(status)"
        }
        return S3Failure(kind: .service(status: status, code: code, message: ""))
    }

    /// A failure below HTTP. Refused, reset, unreachable, timed out and a name server that did not answer are
    /// retried; a name that does not exist, TLS that fails and anything unexpected are not.
    static func from(transport error: Error) -> S3Failure {
        switch error {
        case let error as NetworkError:
            return S3Failure(kind: .transport(error.detail, retryable: error.kind != .nameNotFound))
        case let error as TLSFailure where error.kind == .untrusted:
            return S3Failure(kind: .untrusted(error.detail))
        case let error as TLSFailure:
            return S3Failure(kind: .transport(error.detail, retryable: false))
        default:
            return S3Failure(kind: .transport(String(describing: error), retryable: false))
        }
    }

    /// The operator's message: what was asked of which object at which endpoint, S3's code, and what to do.
    /// Never carries credentials or signatures: neither is part of any field used here.
    func operatorError(_ operation: String, endpoint: URL, bucket: String?, key: String?, attempts: Int) -> OperatorError {
        let target = "s3://\(bucket ?? "")\(key.map { "/" + $0 } ?? "")"
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        switch kind {
        case let .service(status, code, message):
            let detail = message.isEmpty ? "\(code) (HTTP \(status))" : "\(code) (HTTP \(status)): \(message)"
            let problem = "S3 \(operation) of \(target) at \(endpoint.absoluteString) failed\(tries): \(detail)"
            let remedy: String = switch code {
            case "NoSuchBucket": "check the bucket name and endpoint, or create the bucket"
            case "NoSuchKey", "NotFound": "the object does not exist; check the name or prefix"
            case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
                "check the S3 credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or the configuration), the region and the bucket's policy"
            case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
                "check the region and endpoint configured for this bucket"
            default: isRetryable ? "the service is failing or throttling; try again later" : "check the request and the service's logs"
            }
            return Self.settingCodes.contains(code) ? .badInput(problem, remedy: remedy) : .failed(problem, remedy: remedy)
        case let .transport(detail, _):
            return .failed("S3 \(operation) of \(target) at \(endpoint.absoluteString) failed\(tries): \(detail)",
                           remedy: "check that the endpoint is reachable and the network is up")
        case let .untrusted(detail):
            return .failed("S3 \(operation) of \(target) at \(endpoint.absoluteString) failed: \(detail)",
                           remedy: "if the endpoint uses a private CA, set ca_file beside endpoint in the configuration to its PEM certificate; otherwise check that the endpoint's name is the one its certificate was issued for")
        }
    }
}
