import Foundation
import Sodium
import Testing

@Suite struct SodiumTests {
    @Test func blake2b256KnownVector() {
        // BLAKE2b-256("abc"), RFC 7693 family, as produced by `b2sum -l 256`.
        #expect(Sodium.blake2b256(Data("abc".utf8)).hex
                == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
        #expect(Sodium.blake2b256(Data()).hex
                == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    }

    @Test func streamingEqualsOneShot() {
        let data = Sodium.randomBytes(100_000)
        let hasher = Blake2b256()
        hasher.update(data.prefix(33_333))
        hasher.update(data.dropFirst(33_333))
        #expect(hasher.finalize() == Sodium.blake2b256(data))
    }

    @Test func argon2idKnownVector() throws {
        // What a passphrase slot relies on: the same inputs give the same key, one changed byte another.
        let salt = Data(repeating: 0x01, count: 16)
        let a = try Sodium.argon2id(passphrase: Data("correct horse".utf8), salt: salt, cost: .interactive)
        let b = try Sodium.argon2id(passphrase: Data("correct horse".utf8), salt: salt, cost: .interactive)
        let c = try Sodium.argon2id(passphrase: Data("correct horsf".utf8), salt: salt, cost: .interactive)
        #expect(a.count == 32 && a == b && a != c)
    }

    @Test func keyedBlake2bWithSaltAndPersonalKnownVector() throws {
        // Cross-checked with CPython's hashlib.blake2b(b"abc", key=bytes(range(32)), salt=bytes(range(16)),
        // person=b"valkyrie keyfile", digest_size=32), an implementation independent of libsodium.
        let key = Data(0..<32), salt = Data(0..<16), personal = Data("valkyrie keyfile".utf8)
        #expect(try Sodium.blake2b256(Data("abc".utf8), key: key, salt: salt, personal: personal).hex
                == "e9c5b7695d593453585e2792f72e505327ec9a9178eae795650ee9defff5afdf")
        // Salt and personalisation are part of the hash: changing either changes the digest.
        let other = try Sodium.blake2b256(Data("abc".utf8), key: key, salt: Data(1..<17), personal: personal)
        let otherPersonal = try Sodium.blake2b256(Data("abc".utf8), key: key, salt: salt, personal: Data("valkyrie keyfilf".utf8))
        #expect(Set([other.hex, otherPersonal.hex, "e9c5b7695d593453585e2792f72e505327ec9a9178eae795650ee9defff5afdf"]).count == 3)
        for (k, s, p) in [(Data(count: 8), salt, personal), (key, Data(count: 15), personal), (key, salt, Data(count: 17))] {
            #expect(throws: (any Error).self) { try Sodium.blake2b256(Data(), key: k, salt: s, personal: p) }
        }
    }

    @Test func wrongSaltLengthIsRefused() {
        #expect(throws: (any Error).self) {
            try Sodium.argon2id(passphrase: Data(), salt: Data(count: 3), cost: .interactive)
        }
    }
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
