import Foundation
import POSIX
import Support
import Testing
import TLS
@testable import S3

@Suite struct S3CredentialsTests {
    @Test func fromEnvironmentReadsKeysAndToken() throws {
        let credentials = try S3Credentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value", "AWS_SESSION_TOKEN": "tok3n-value",
        ])
        #expect(credentials == S3Credentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t-value", sessionToken: "tok3n-value"))
        #expect(try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"]).sessionToken == nil)
    }

    @Test func missingKeysAreBadInputNamingTheVariable() {
        #expect {
            try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"])
        } throws: { error in
            let error = error as? OperatorError
            return error?.status == .usage && error?.problem.contains("AWS_SECRET_ACCESS_KEY") == true
        }
    }

    @Test func descriptionsNeverShowTheSecretOrToken() {
        let credentials = S3Credentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t-value", sessionToken: "tok3n-value")
        for text in ["\(credentials)", String(reflecting: credentials)] {
            #expect(text.contains("AKID"))
            #expect(!text.contains("s3cr3t-value"))
            #expect(!text.contains("tok3n-value"))
        }
    }
}

@Suite struct RetryPolicyTests {
    @Test func delaysAreJitteredAndBounded() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1), maxElapsed: .seconds(60))
        for attempt in 1...10 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (attempt - 1)))
            let delays = (0..<50).map { _ in policy.delay(after: attempt) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling })
            #expect(Set(delays).count > 1, "delays for attempt \(attempt) are jittered")
        }
        #expect(RetryPolicy.none.maxAttempts == 1)
        #expect(RetryPolicy.none.delay(after: 1) == .zero)
    }

    @Test func multipartPartsAreAtLeastS3sMinimum() {
        #expect(MultipartPolicy(threshold: 1, partSize: 1).partSize == 5 * 1024 * 1024)
        #expect(MultipartPolicy.standard.threshold == 16 * 1024 * 1024)
        #expect(MultipartPolicy.standard.partSize == 8 * 1024 * 1024)
    }

    @Test func failuresAreClassified() {
        #expect(S3Failure.from(status: 503, body: Data("<Error><Code>SlowDown</Code></Error>".utf8)).isRetryable)
        #expect(S3Failure.from(status: 500, body: Data()).isRetryable)
        #expect(S3Failure.from(status: 429, body: Data()).isRetryable)
        #expect(S3Failure.from(status: 400, body: Data("<Error><Code>RequestTimeout</Code></Error>".utf8)).isRetryable)
        for (status, code) in [(404, "NoSuchKey"), (404, "NoSuchBucket"), (403, "AccessDenied"), (403, "SignatureDoesNotMatch"), (400, "InvalidArgument")] {
            let failure = S3Failure.from(status: status, body: Data("<Error><Code>\(code)</Code><Message>m</Message></Error>".utf8))
            #expect(failure.code == code)
            #expect(!failure.isRetryable, "\(code) is not retried")
        }
        for kind in [NetworkError.Kind.refused, .reset, .unreachable, .timedOut, .nameTemporarilyUnresolved, .other] {
            #expect(S3Failure.from(transport: NetworkError(kind: kind, detail: "d")).isRetryable, "\(kind) is retried")
        }
        #expect(!S3Failure.from(transport: NetworkError(kind: .nameNotFound, detail: "d")).isRetryable)
        #expect(!S3Failure.from(transport: TLSFailure(kind: .untrusted, detail: "d")).isRetryable)
        #expect(!S3Failure.from(transport: TLSFailure(kind: .protocolFailure, detail: "d")).isRetryable)
        #expect(!S3Failure.from(transport: CocoaError(.fileNoSuchFile)).isRetryable)
    }

    @Test func operatorErrorsNameTheObjectEndpointAndCode() throws {
        let endpoint = try #require(URL(string: "http://127.0.0.1:9000"))
        let error = S3Failure.from(status: 403, body: Data("<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>".utf8))
            .operatorError("GetObject", endpoint: endpoint, bucket: "bkt", key: "a/b", attempts: 1)
        #expect(error.status == .usage)
        #expect(error.problem.contains("s3://bkt/a/b"))
        #expect(error.problem.contains("http://127.0.0.1:9000"))
        #expect(error.problem.contains("SignatureDoesNotMatch"))
        #expect(error.remedy?.contains("credentials") == true)
        let transient = S3Failure.from(status: 503, body: Data())
            .operatorError("PutObject", endpoint: endpoint, bucket: "bkt", key: "k", attempts: 8)
        #expect(transient.status == .failed)
        #expect(transient.problem.contains("after 8 attempts"))
    }
}
