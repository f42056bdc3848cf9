import Foundation
import Testing
@testable import S3

/// S3's answers as AWS documents them (API reference examples), and documents that are not XML.
@Suite struct S3XMLTests {
    private func parse(_ text: String) -> S3XML? { S3XML.parse(Data(text.utf8)) }

    @Test func listObjectsV2WithKeysNeedingEntities() throws {
        let listing = try #require(parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                <Name>bucket</Name>
                <Prefix/>
                <KeyCount>3</KeyCount>
                <MaxKeys>1000</MaxKeys>
                <IsTruncated>true</IsTruncated>
                <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
                <Contents>
                    <Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key>
                    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
                    <Size>434234</Size>
                    <StorageClass>STANDARD</StorageClass>
                </Contents>
                <Contents>
                    <Key>caf&#233;/&#x1F600; snow&#x2603;</Key>
                    <ETag>"1-2"</ETag>
                    <Size>0</Size>
                </Contents>
                <Contents><Key><![CDATA[raw <cdata> & key]]></Key><Size>1</Size></Contents>
            </ListBucketResult>
            """))
        #expect(listing.name == "ListBucketResult")
        #expect(listing["Name"]?.text == "bucket")
        #expect(listing["Prefix"]?.text == "", "a self-closing element is present and empty")
        #expect(listing["IsTruncated"]?.text == "true")
        #expect(listing["NextContinuationToken"]?.text == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        let contents = listing.all("Contents")
        #expect(contents.map { $0["Key"]?.text } == ["a & b <c> \"d\" 'e'", "café/😀 snow☃", "raw <cdata> & key"])
        #expect(contents[0]["ETag"]?.text == "\"fba9dede5f27731c9771645a39863328\"")
        #expect(contents[0]["Size"]?.text == "434234")
        #expect(contents[0]["LastModified"]?.text == "2009-10-12T17:50:30.000Z")
        #expect(listing["Missing"] == nil)
    }

    @Test func errorDocument() throws {
        let error = try #require(parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>NoSuchKey</Code>
              <Message>The resource you requested does not exist</Message>
              <Resource>/mybucket/myfoto.jpg</Resource>
              <RequestId>4442587FB7D0A2F9</RequestId>
            </Error>
            """))
        #expect(error.name == "Error")
        #expect(error["Code"]?.text == "NoSuchKey")
        #expect(error["Message"]?.text == "The resource you requested does not exist")
        let failure = S3Failure.from(status: 404, body: Data("<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>".utf8))
        #expect(failure.code == "SlowDown")
        #expect(failure.isRetryable)
    }

    @Test func multipartAnswers() throws {
        let initiated = try #require(parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket>
              <Key>example-object</Key>
              <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
            </InitiateMultipartUploadResult>
            """))
        #expect(initiated["UploadId"]?.text == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")
        let completed = try #require(parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
             <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>
             <Bucket>Example-Bucket</Bucket>
             <Key>Example-Object</Key>
             <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
            </CompleteMultipartUploadResult>
            """))
        #expect(completed["ETag"]?.text == "\"3858f62230ac3c915f300c664312c11f-9\"")
        // What the client sends is read back the same way.
        let sent = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"\(S3XML.escape("a\"b<&>"))\"</ETag></Part></CompleteMultipartUpload>"
        #expect(try #require(parse(sent))["Part"]?["ETag"]?.text == "\"a\"b<&>\"")
    }

    @Test func attributesCommentsAndInstructionsAreDropped() throws {
        let document = try #require(parse("""
            \u{FEFF}<?xml version='1.0'?>
            <!-- before -->
            <s3:Root xmlns:s3="urn:x" a='1' b = "2 > 1">
              <Item id="x"/><!-- inside --><?pi data?>
              <Item>two</Item >
            </s3:Root>
            <!-- after -->
            """))
        #expect(document.name == "s3:Root")
        #expect(document.all("Item").map(\.text) == ["", "two"])
    }

    @Test func malformedDocumentsAreNil() {
        for text in [
            "", "   ", "not xml", "<a>", "<a></b>", "<a><b></a></b>", "<a>x</a><b/>", "<a>x</a>trailing", "text<a/>",
            "<a>&unknown;</a>", "<a>&amp</a>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a b=c/>", "<a b=\"c/>", "<a b/>",
            "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "<a><![CDATA[open</a>", "<a><!-- open</a>", "</a>", "<>",
        ] {
            #expect(parse(text) == nil, "\(text) is not accepted")
        }
        #expect(S3XML.parse(Data([0x3C, 0x61, 0x3E, 0xFF, 0xFE, 0x3C, 0x2F, 0x61, 0x3E])) == nil, "invalid UTF-8")
    }
}
