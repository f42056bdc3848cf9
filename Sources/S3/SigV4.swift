import Crypto
import Foundation
import Support

/// AWS Signature Version 4 for requests sent with an `Authorization` header, following S3's rules for the
/// canonical URI (each path segment encoded once, no dot-segment normalisation).
public enum SigV4 {
    /// What gets signed. `encodedPath` is already URI-encoded (see `S3URI.encodePath`); query names and values
    /// are raw and encoded here. `headers` are exactly the headers to sign, in any case.
    public struct Request: Sendable {
        public var method: String
        public var encodedPath: String
        public var query: [(name: String, value: String)]
        public var headers: [String: String]
        public var payloadHash: String

        public init(method: String, encodedPath: String, query: [(name: String, value: String)] = [],
                    headers: [String: String], payloadHash: String) {
            self.method = method
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// Every intermediate product, so tests can hold each step against published vectors.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
        public var signature: String
        public var authorization: String
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let emptyPayloadHash = sha256Hex(Data())

    /// Signs `request` at `date` (which must equal the request's `x-amz-date` header).
    public static func sign(_ request: Request, credentials: S3Credentials, region: String, service: String,
                            date: Date) -> Signature {
        let amzDate = timestamp(date)
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"

        let headers = request.headers
            .map { (name: $0.key.lowercased(), value: canonicalHeaderValue($0.value)) }
            .sorted { $0.name < $1.name }
        let signedHeaders = headers.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            request.method,
            request.encodedPath.isEmpty ? "/" : request.encodedPath,
            canonicalQuery(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let stringToSign = [algorithm, amzDate, scope, sha256Hex(Data(canonicalRequest.utf8))].joined(separator: "\n")

        let key = signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hexString
        let authorization = "\(algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                         signedHeaders: signedHeaders, signature: signature, authorization: authorization)
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")
    static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `20150830T123600Z`, the x-amz-date format.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// Names and values URI-encoded (slashes too), sorted by name then value, `name=value` joined with `&`.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { pair in
            (S3URI.encode(pair.name, encodeSlash: true), S3URI.encode(pair.value, encodeSlash: true))
        }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// Leading and trailing space trimmed, inner runs of spaces collapsed to one.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    public static func sha256Hex(_ data: Data) -> String { Data(SHA256.hash(data: data)).hexString }
}

/// S3's URI encoding: every byte outside `A-Z a-z 0-9 - _ . ~` as `%XX` (upper-case hex) of its UTF-8.
public enum S3URI {
    public static func encode(_ text: String, encodeSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where !encodeSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// The path of an object: `/bucket/key` (path style) or `/key` (virtual-host style), slashes kept.
    public static func encodePath(bucket: String?, key: String?) -> String {
        var path = ""
        if let bucket { path += "/" + encode(bucket, encodeSlash: true) }
        if let key { path += "/" + encode(key, encodeSlash: false) }
        return path.isEmpty ? "/" : path
    }
}
