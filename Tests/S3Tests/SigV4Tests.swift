import Foundation
import Testing
@testable import S3

/// SigV4 against published vectors. Each expected canonical request, string to sign and signature below is
/// copied from AWS's documents, not computed by this code:
/// - AWS Signature Version 4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html,
///   files `<name>.creq`, `.sts`, `.authz`): credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
///   20150830T123600Z, us-east-1, service "service".
/// - Amazon S3 API reference, "Signature Calculations for the Authorization Header: Transferring Payload in a
///   Single Chunk", examples GET Object, PUT Object and List Objects: AKIAIOSFODNN7EXAMPLE /
///   wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z, us-east-1, service "s3".
@Suite struct SigV4Tests {
    static let suiteCredentials = S3Credentials(accessKeyID: "AKIDEXAMPLE",
                                                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let s3Credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                             secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    func suite(_ request: SigV4.Request) -> SigV4.Signature {
        SigV4.sign(request, credentials: Self.suiteCredentials, region: "us-east-1", service: "service", date: Self.suiteDate)
    }

    func s3(_ request: SigV4.Request) -> SigV4.Signature {
        SigV4.sign(request, credentials: Self.s3Credentials, region: "us-east-1", service: "s3", date: Self.s3Date)
    }

    @Test func timestampIsTheAmzDateFormat() {
        #expect(SigV4.timestamp(Self.suiteDate) == "20150830T123600Z")
        #expect(SigV4.timestamp(Self.s3Date) == "20130524T000000Z")
    }

    @Test func getVanilla() {
        let signed = suite(SigV4.Request(
            method: "GET", encodedPath: "/",
            headers: ["Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"],
            payloadHash: SigV4.emptyPayloadHash))
        #expect(signed.canonicalRequest == """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let signed = suite(SigV4.Request(
            method: "GET", encodedPath: "/", query: [("Param2", "value2"), ("Param1", "value1")],
            headers: ["Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"],
            payloadHash: SigV4.emptyPayloadHash))
        #expect(signed.canonicalRequest == """
            GET
            /
            Param1=value1&Param2=value2
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0
            """)
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func postXWWWFormURLEncoded() {
        let body = Data("Param1=value1".utf8)
        #expect(SigV4.sha256Hex(body) == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        let signed = suite(SigV4.Request(
            method: "POST", encodedPath: "/",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Host": "example.amazonaws.com",
                      "X-Amz-Date": "20150830T123600Z"],
            payloadHash: SigV4.sha256Hex(body)))
        #expect(signed.canonicalRequest == """
            POST
            /

            content-type:application/x-www-form-urlencoded
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281
            """)
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test func s3GetObjectWithRange() {
        let signed = s3(SigV4.Request(
            method: "GET", encodedPath: S3URI.encodePath(bucket: nil, key: "test.txt"),
            headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9",
                      "x-amz-content-sha256": SigV4.emptyPayloadHash, "x-amz-date": "20130524T000000Z"],
            payloadHash: SigV4.emptyPayloadHash))
        #expect(signed.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.signedHeaders == "host;range;x-amz-content-sha256;x-amz-date")
    }

    @Test func s3PutObjectWithEncodedKeyAndPayloadHash() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let hash = SigV4.sha256Hex(body)
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = s3(SigV4.Request(
            method: "PUT", encodedPath: S3URI.encodePath(bucket: nil, key: "test$file.text"),
            headers: ["Host": "examplebucket.s3.amazonaws.com", "Date": "Fri, 24 May 2013 00:00:00 GMT",
                      "x-amz-storage-class": "REDUCED_REDUNDANCY", "x-amz-content-sha256": hash,
                      "x-amz-date": "20130524T000000Z"],
            payloadHash: hash))
        #expect(signed.canonicalRequest == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        #expect(signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func s3ListObjectsQuery() {
        let signed = s3(SigV4.Request(
            method: "GET", encodedPath: "/", query: [("prefix", "J"), ("max-keys", "2")],
            headers: ["Host": "examplebucket.s3.amazonaws.com", "x-amz-content-sha256": SigV4.emptyPayloadHash,
                      "x-amz-date": "20130524T000000Z"],
            payloadHash: SigV4.emptyPayloadHash))
        #expect(signed.canonicalRequest.hasPrefix("GET\n/\nmax-keys=2&prefix=J\n"))
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func signatureDependsOnEveryInput() {
        let base = SigV4.Request(method: "GET", encodedPath: "/a", headers: ["host": "h", "x-amz-date": "20130524T000000Z"],
                                 payloadHash: SigV4.emptyPayloadHash)
        var otherPath = base; otherPath.encodedPath = "/b"
        var otherBody = base; otherBody.payloadHash = SigV4.sha256Hex(Data("x".utf8))
        var otherHeader = base; otherHeader.headers["x-amz-meta-a"] = "1"
        let signatures = [base, otherPath, otherBody, otherHeader].map { s3($0).signature }
        #expect(Set(signatures).count == 4)
        let otherSecret = SigV4.sign(base, credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x"),
                                     region: "us-east-1", service: "s3", date: Self.s3Date)
        #expect(otherSecret.signature != signatures[0])
        #expect(!s3(base).authorization.contains(Self.s3Credentials.secretAccessKey))
    }

    @Test func headerValuesAreTrimmedAndSpacesCollapsed() {
        #expect(SigV4.canonicalHeaderValue("  a   b  c ") == "a b c")
    }
}

@Suite struct S3URITests {
    @Test func encodesEverythingButUnreserved() {
        #expect(S3URI.encode("A-z_0.9~", encodeSlash: true) == "A-z_0.9~")
        #expect(S3URI.encode("a b+c", encodeSlash: true) == "a%20b%2Bc")
        #expect(S3URI.encode("=&?#%", encodeSlash: true) == "%3D%26%3F%23%25")
        #expect(S3URI.encode("a/b", encodeSlash: true) == "a%2Fb")
        #expect(S3URI.encode("a/b", encodeSlash: false) == "a/b")
        #expect(S3URI.encode("ключ", encodeSlash: false) == "%D0%BA%D0%BB%D1%8E%D1%87")
        #expect(S3URI.encode("交付物", encodeSlash: false) == "%E4%BA%A4%E4%BB%98%E7%89%A9")
    }

    @Test func pathsKeepSlashesOfKeysOnly() {
        #expect(S3URI.encodePath(bucket: "b", key: "dir/file name.txt") == "/b/dir/file%20name.txt")
        #expect(S3URI.encodePath(bucket: "b", key: nil) == "/b")
        #expect(S3URI.encodePath(bucket: nil, key: nil) == "/")
    }

    @Test func queryValuesEncodeSlashesAndSortByName() {
        #expect(SigV4.canonicalQuery([("prefix", "data/ab"), ("list-type", "2"), ("uploads", "")])
            == "list-type=2&prefix=data%2Fab&uploads=")
    }
}
