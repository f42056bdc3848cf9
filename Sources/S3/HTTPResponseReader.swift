import Foundation
import POSIX
import TLS

/// The byte stream under one HTTP exchange: a TCP connection, or TLS over one.
protocol HTTPStream {
    func send(_ data: Data) throws
    /// Up to `count` bytes as soon as any arrive; empty when the peer ended the stream.
    func receive(upTo count: Int) throws -> Data
}

extension TCPConnection: HTTPStream {}
extension TLSConnection: HTTPStream {}

/// Reads one HTTP/1.1 response: status line, headers, then the body by the framing RFC 9112 gives it (none
/// for HEAD, 1xx, 204 and 304; chunked; Content-Length; else until the server closes). A body that ends early,
/// a malformed head or one larger than `maxHeadBytes` is a retryable transport failure: never handed on.
struct HTTPResponseReader {
    static let maxHeadBytes = 64 * 1024
    static let readSize = 64 * 1024

    private let stream: any HTTPStream
    /// Received and not yet consumed.
    private var buffer: [UInt8] = []

    init(_ stream: any HTTPStream) { self.stream = stream }

    mutating func read(forMethod method: String) throws -> S3Response {
        var (status, headers) = try head()
        // Interim answers (100 Continue and the like) precede the real one.
        while (100..<200).contains(status) { (status, headers) = try head() }
        let body: Data
        if method == "HEAD" || status == 204 || status == 304 {
            body = Data()
        } else if let coding = headers["transfer-encoding"] {
            let last = coding.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            body = last == "chunked" ? try chunked() : try untilClose()
        } else if let length = headers["content-length"] {
            guard let count = Int(length), count >= 0 else { throw Self.malformed("Content-Length \(length)") }
            body = try exactly(count)
        } else {
            body = try untilClose()
        }
        return S3Response(status: status, headers: headers, body: body)
    }

    /// Status line and headers; names lower-cased, repeated headers joined with ", ".
    private mutating func head() throws -> (Int, [String: String]) {
        var budget = Self.maxHeadBytes
        let statusLine = try line(budget: &budget)
        // "HTTP/1.x nnn reason": the reason may be empty or missing.
        guard statusLine.count >= 12, statusLine.starts(with: Array("HTTP/1.".utf8)), statusLine[8] == UInt8(ascii: " "),
              statusLine.count == 12 || statusLine[12] == UInt8(ascii: " "),
              let status = Int(String(decoding: statusLine[9..<12], as: UTF8.self)), (100...599).contains(status) else {
            throw Self.malformed("status line \"\(String(decoding: statusLine.prefix(80), as: UTF8.self))\"")
        }
        var headers: [String: String] = [:]
        while true {
            let field = try line(budget: &budget)
            if field.isEmpty { return (status, headers) }
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                  !field[..<colon].contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else {
                throw Self.malformed("header line \"\(String(decoding: field.prefix(80), as: UTF8.self))\"")
            }
            let name = String(decoding: field[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: field[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
    }

    /// One line without its CRLF (a bare LF is accepted too), charged to `budget`.
    private mutating func line(budget: inout Int) throws -> ArraySlice<UInt8> {
        var searched = 0
        while true {
            if let end = buffer[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                budget -= end + 1
                guard budget >= 0 else { throw Self.headTooLarge() }
                var text = buffer[..<end]
                if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
                let result = Array(text)[...]
                buffer.removeFirst(end + 1)
                return result
            }
            searched = buffer.count
            guard buffer.count <= budget else { throw Self.headTooLarge() }
            guard try fill() else { throw Self.cutShort("the connection closed before the response's head ended") }
        }
    }

    /// Exactly `count` body bytes.
    private mutating func exactly(_ count: Int) throws -> Data {
        var body = Data(capacity: count)
        let buffered = min(count, buffer.count)
        body.append(contentsOf: buffer[..<buffered])
        buffer.removeFirst(buffered)
        while body.count < count {
            let chunk = try stream.receive(upTo: min(Self.readSize, count - body.count))
            guard !chunk.isEmpty else { throw Self.cutShort("response cut short (\(body.count) of \(count) bytes)") }
            body.append(chunk)
        }
        return body
    }

    /// The chunked transfer coding: hex sizes (extensions ignored), each chunk followed by CRLF, a zero-size
    /// chunk, then trailers (ignored) up to an empty line.
    private mutating func chunked() throws -> Data {
        var body = Data()
        while true {
            var framing = 4096
            let sizeLine = try line(budget: &framing)
            let digits = sizeLine.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw Self.malformed("chunk size \"\(String(decoding: sizeLine.prefix(40), as: UTF8.self))\"")
            }
            if size == 0 {
                var trailers = Self.maxHeadBytes
                while try !line(budget: &trailers).isEmpty {}
                return body
            }
            body.append(try exactly(size))
            guard try line(budget: &framing).isEmpty else { throw Self.malformed("chunk not followed by CRLF") }
        }
    }

    /// Everything until the server closes the connection.
    private mutating func untilClose() throws -> Data {
        var body = Data(buffer)
        buffer.removeAll()
        while true {
            let chunk = try stream.receive(upTo: Self.readSize)
            if chunk.isEmpty { return body }
            body.append(chunk)
        }
    }

    /// Receives more bytes into the buffer; false at the end of the stream.
    private mutating func fill() throws -> Bool {
        let chunk = try stream.receive(upTo: Self.readSize)
        buffer.append(contentsOf: chunk)
        return !chunk.isEmpty
    }

    private static func malformed(_ what: String) -> S3Failure {
        S3Failure(kind: .transport("bad server response: malformed \(what)", retryable: true))
    }

    private static func headTooLarge() -> S3Failure {
        S3Failure(kind: .transport("bad server response: head over \(maxHeadBytes / 1024) KiB or chunk framing too long", retryable: true))
    }

    private static func cutShort(_ what: String) -> S3Failure {
        S3Failure(kind: .transport(what, retryable: true))
    }
}
