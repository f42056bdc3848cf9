import Foundation
import Support
import Testing
@testable import S3

/// A server's bytes handed out a few at a time (so every boundary falls mid-line and mid-chunk somewhere),
/// then the end of the stream.
final class ScriptedStream: HTTPStream {
    private var remaining: [UInt8]
    private let piece: Int

    init(_ text: String, piece: Int = 7) {
        remaining = Array(text.utf8)
        self.piece = piece
    }

    init(_ bytes: [UInt8], piece: Int = 7) {
        remaining = bytes
        self.piece = piece
    }

    func send(_ data: Data) {}

    func receive(upTo count: Int) -> Data {
        let n = min(count, piece, remaining.count)
        defer { remaining.removeFirst(n) }
        return Data(remaining.prefix(n))
    }
}

@Suite struct HTTPResponseReaderTests {
    private func read(_ text: String, method: String = "GET", piece: Int = 7) throws -> S3Response {
        var reader = HTTPResponseReader(ScriptedStream(text, piece: piece))
        return try reader.read(forMethod: method)
    }

    /// A retryable transport failure whose detail mentions `part`.
    private func isRetryableTransport(_ error: any Error, mentioning part: String) -> Bool {
        guard let failure = error as? S3Failure, case let .transport(detail, retryable) = failure.kind else { return false }
        return retryable && detail.contains(part)
    }

    @Test func contentLengthBody() throws {
        for piece in [1, 7, 4096] {
            let response = try read("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nETag: \"abc\"\r\nX-Amz-Meta-Lane:  2 \r\n\r\nhello world",
                                    piece: piece)
            #expect(response.status == 200)
            #expect(response.body == Data("hello world".utf8))
            #expect(response.headers["etag"] == "\"abc\"")
            #expect(response.headers["x-amz-meta-lane"] == "2", "names lower-cased, values trimmed")
        }
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n" + "1 ; x=\"y\"\r\n \r\n" + "A\r\n0123456789\r\n"
            + "0\r\nX-Checksum: 1234\r\nX-Other: 5\r\n\r\n"
        let response = try read(text)
        #expect(response.body == Data("hello 0123456789".utf8))
        #expect(response.headers["transfer-encoding"] == "chunked")
    }

    @Test func bodyUntilClose() throws {
        let response = try read("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it, then the end")
        #expect(response.body == Data("all of it, then the end".utf8))
    }

    @Test func noBodyForHeadAnd204And304() throws {
        // HEAD declares the size of what GET would send: nothing follows.
        let head = try read("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", method: "HEAD")
        #expect(head.body.isEmpty)
        #expect(head.headers["content-length"] == "5000")
        #expect(try read("HTTP/1.1 204 No Content\r\n\r\n", method: "DELETE").body.isEmpty)
        #expect(try read("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").body.isEmpty)
    }

    @Test func interimAnswersAreSkippedAndRepeatedHeadersJoined() throws {
        let response = try read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nVary: a\r\nVary: b\r\nContent-Length: 2\r\n\r\nno")
        #expect(response.status == 403)
        #expect(response.headers["vary"] == "a, b")
        #expect(response.body == Data("no".utf8))
    }

    @Test func aBareLFAndAMissingReasonAreAccepted() throws {
        let response = try read("HTTP/1.0 200\nContent-Length: 2\n\nok")
        #expect(response.status == 200)
        #expect(response.body == Data("ok".utf8))
    }

    @Test func aBodyCutShortIsARetryableFailure() {
        #expect { try read("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this") } throws: {
            isRetryableTransport($0, mentioning: "cut short (9 of 100 bytes)")
        }
        #expect { try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort") } throws: {
            isRetryableTransport($0, mentioning: "cut short")
        }
        // The last chunk never came.
        #expect { try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n") } throws: {
            isRetryableTransport($0, mentioning: "closed")
        }
        #expect { try read("HTTP/1.1 200 OK\r\nContent-Le") } throws: { isRetryableTransport($0, mentioning: "closed") }
        #expect { try read("") } throws: { isRetryableTransport($0, mentioning: "closed") }
    }

    @Test func malformedAnswersAreRetryableFailures() {
        for text in ["HTTP/2 200 OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
                     "HTTP/1.1 099 Low\r\n\r\n", "<html>hello</html>\r\n\r\n"] {
            #expect(throws: (any Error).self) { try read(text) }
            #expect { try read(text) } throws: { isRetryableTransport($0, mentioning: "malformed status line") }
        }
        #expect { try read("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n") } throws: { isRetryableTransport($0, mentioning: "malformed header") }
        #expect { try read("HTTP/1.1 200 OK\r\n folded: value\r\n\r\n") } throws: { isRetryableTransport($0, mentioning: "malformed header") }
        #expect { try read("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n") } throws: { isRetryableTransport($0, mentioning: "Content-Length") }
        #expect { try read("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello") } throws: { isRetryableTransport($0, mentioning: "Content-Length") }
        #expect { try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") } throws: { isRetryableTransport($0, mentioning: "chunk size") }
        #expect { try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n") } throws: {
            isRetryableTransport($0, mentioning: "chunk not followed by CRLF")
        }
    }

    @Test func anOversizedHeadIsRefusedWithoutReadingItAll() {
        let huge = "HTTP/1.1 200 OK\r\nX-Filler: " + String(repeating: "a", count: 70 * 1024) + "\r\n\r\n"
        #expect { try read(huge, piece: 4096) } throws: { isRetryableTransport($0, mentioning: "head over 64 KiB") }
        let many = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Line: 0123456789\r\n", count: 4000) + "\r\n"
        #expect { try read(many, piece: 4096) } throws: { isRetryableTransport($0, mentioning: "head over 64 KiB") }
    }

    @Test func aBinaryBodyComesBackByteForByte() throws {
        let body = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var reader = HTTPResponseReader(ScriptedStream(Array("HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n".utf8) + body, piece: 5000))
        #expect(try reader.read(forMethod: "GET").body == Data(body))
    }
}
