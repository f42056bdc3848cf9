import Foundation
import Testing
@testable import Vaulthalla

@Suite struct ContentHashTests {
    // BLAKE2b-256 (RFC 7693 with a 32-byte digest), as libsodium's crypto_generichash and Python's hashlib give it.
    @Test func knownDigests() {
        #expect(ContentHash.hex(of: Data("abc".utf8)) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
        #expect(ContentHash.hex(of: Data()) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    }

    @Test func fileHashStreamsToTheSameDigest() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vh-hash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let data = Data((0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        #expect(FileManager.default.createFile(atPath: path, contents: data))
        #expect(try ContentHash.hex(ofFileAt: path) == ContentHash.hex(of: data))
        #expect(throws: Error.self) { try ContentHash.hex(ofFileAt: path + ".missing") }
    }
}
