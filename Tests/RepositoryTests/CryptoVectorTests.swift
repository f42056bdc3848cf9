import Crypto
import Foundation
@testable import Repository
import Testing

/// Known-answer vectors: blob ids are HMAC-SHA256 (RFC 4231), blobs and objects AES-256-GCM (the GCM spec's
/// test case 16, McGrew and Viega).
@Suite struct CryptoVectorTests {
    func key(id: Data) -> MasterKey {
        MasterKey(encryption: SymmetricKey(size: .bits256), id: SymmetricKey(data: id), chunker: SymmetricKey(size: .bits256))
    }

    @Test("blob ids match RFC 4231 HMAC-SHA256 test cases 1, 2, 3 and 6")
    func rfc4231() {
        let cases: [(key: Data, data: Data, mac: String)] = [
            (Data(repeating: 0x0b, count: 20), Data("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Data("Jefe".utf8), Data("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (Data(repeating: 0xaa, count: 20), Data(repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Data(repeating: 0xaa, count: 131), Data("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for vector in cases {
            #expect(key(id: vector.key).blobID(vector.data).hex == vector.mac)
        }
    }

    @Test("an id reads back from its 64 lowercase hex digits; other text is no id")
    func hexIDs() {
        let mac = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        let id = BlobID(hex: mac)
        #expect(id?.hex == mac)
        #expect(id?.bytes == Array(Data(hex: mac)))
        for bad in [mac.uppercased(), String(mac.dropLast()), mac + "0", String(mac.dropLast()) + "g", ""] {
            #expect(BlobID(hex: bad) == nil)
        }
    }

    @Test("the same plaintext gets the same id; another repository's key gives another id")
    func idsAreKeyed() {
        let a = MasterKey.generate(), b = MasterKey.generate()
        let data = Data("same content".utf8)
        #expect(a.blobID(data) == a.blobID(data))
        #expect(a.blobID(data) != b.blobID(data))
        #expect(a.blobID(data) != BlobID.sha256(data))
    }

    static let gcmKey = Data(hex: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    static let gcmNonce = Data(hex: "cafebabefacedbaddecaf888")
    static let gcmPlain = Data(hex: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    static let gcmAAD = Data(hex: "feedfacedeadbeeffeedfacedeadbeefabaddad2")
    static let gcmCipher = Data(hex: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
    static let gcmTag = Data(hex: "76fc6ece0f4e1768cddf8853bb2d551b")

    @Test("AES-256-GCM opens the GCM spec's test case 16 (nonce || ciphertext || tag, with associated data)")
    func gcmKnownAnswer() throws {
        let sealed = Self.gcmNonce + Self.gcmCipher + Self.gcmTag
        let plain = try Sealing.open(sealed, key: SymmetricKey(data: Self.gcmKey), associatedData: Self.gcmAAD)
        #expect(plain == Self.gcmPlain)
    }

    @Test("changing one bit of ciphertext, tag, nonce or associated data fails authentication")
    func gcmTamper() {
        let key = SymmetricKey(data: Self.gcmKey)
        let sealed = Self.gcmNonce + Self.gcmCipher + Self.gcmTag
        for position in [0, 5, 12, 40, sealed.count - 1] {
            var flipped = sealed
            flipped[position] ^= 0x01
            #expect(throws: SealingError.self) { try Sealing.open(flipped, key: key, associatedData: Self.gcmAAD) }
        }
        var aad = Self.gcmAAD
        aad[0] ^= 0x80
        #expect(throws: SealingError.self) { try Sealing.open(sealed, key: key, associatedData: aad) }
        #expect(throws: SealingError.self) { try Sealing.open(Data(sealed.prefix(20)), key: key, associatedData: Self.gcmAAD) }
    }

    @Test("sealing uses a fresh nonce every time: one plaintext never gives the same bytes twice")
    func freshNonces() throws {
        let key = MasterKey.generate()
        var nonces = Set<Data>()
        for _ in 0..<1000 {
            let sealed = try key.seal(Data("x".utf8), associatedData: Data())
            nonces.insert(sealed.prefix(12))
            #expect(sealed.count == 1 + Sealing.overhead)
        }
        #expect(nonces.count == 1000)
    }

    @Test("the master key survives wrapping into 96 bytes and back")
    func masterKeyBytes() throws {
        let key = MasterKey.generate()
        let copy = try #require(MasterKey(bytes: key.bytes))
        #expect(copy.bytes == key.bytes)
        #expect(copy.blobID(Data("a".utf8)) == key.blobID(Data("a".utf8)))
        #expect(MasterKey(bytes: Data(count: 95)) == nil)
    }
}
