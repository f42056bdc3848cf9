import Foundation
import GPG
import Sodium
import Support
import Testing

/// Against the throwaway keyring of scripts/services: the operator's key and an unrelated one, both with
/// their secret keys and no passphrase.
@Suite struct GPGTests {
    let home: String, operatorKey: String, otherKey: String

    init() throws {
        home = try TestServices.env("VALKYRIE_TEST_GNUPGHOME")
        operatorKey = try TestServices.env("VALKYRIE_TEST_GPG_FPR")
        otherKey = try TestServices.env("VALKYRIE_TEST_GPG_OTHER_FPR")
    }

    /// The encryption subkey's id of a key, as the gpg CLI lists it: the independent check of what gpgme says.
    func encryptionSubkeyID(_ fingerprint: String) throws -> String {
        let listing = try Subprocess.check("gpg", ["--homedir", home, "--batch", "--with-colons", "--list-keys", fingerprint])
        let sub = listing.stdoutText.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
            .first { $0.first == "sub" && $0[11].contains("e") }
        return String(try #require(sub)[4])
    }

    @Test func roundTripArmoredAndBinary() throws {
        let gpg = try GPGContext(homeDirectory: home)
        for plaintext in [Sodium.randomBytes(10_000), Data(), Data("vault keys\n".utf8)] {
            let armored = try gpg.encrypt(plaintext, to: [operatorKey])
            #expect(armored.starts(with: Data("-----BEGIN PGP MESSAGE-----".utf8)))
            #expect(try gpg.decrypt(armored) == plaintext)
            let binary = try gpg.encrypt(plaintext, to: [operatorKey], armor: false)
            #expect(binary.first.map { $0 & 0x80 != 0 } == true && !binary.starts(with: Data("-----".utf8)))
            #expect(try gpg.decrypt(binary) == plaintext)
        }
    }

    @Test func theGpgCommandDecryptsWhatWeEncrypt() throws {
        let plaintext = Data("{\"key\": \"c2VjcmV0\"}\n".utf8)
        let armored = try GPGContext(homeDirectory: home).encrypt(plaintext, to: [operatorKey])
        let result = try Subprocess.check("gpg", ["--homedir", home, "--batch", "--decrypt"], input: armored)
        #expect(result.stdout == plaintext)
    }

    @Test func recipientsNameTheEncryptionSubkey() throws {
        let gpg = try GPGContext(homeDirectory: home)
        let other = try encryptionSubkeyID(otherKey), mine = try encryptionSubkeyID(operatorKey)
        #expect(try gpg.recipients(of: gpg.encrypt(Data("x".utf8), to: [otherKey])) == [other])
        #expect(try gpg.recipients(of: gpg.encrypt(Data("x".utf8), to: [otherKey], armor: false)) == [other])
        let both = try gpg.recipients(of: gpg.encrypt(Data("x".utf8), to: [operatorKey, otherKey]))
        #expect(Set(both) == [mine, other] && both.count == 2)
        #expect(try gpg.key(otherKey)?.subkeyIDs.contains(other) == true)
    }

    @Test func recipientsOfWhatTheGpgCommandWrote() throws {
        let written = try Subprocess.check("gpg", ["--homedir", home, "--batch", "--armor", "--trust-model", "always",
                                                   "--encrypt", "--recipient", otherKey], input: Data("y".utf8)).stdout
        #expect(try GPGContext(homeDirectory: home).recipients(of: written) == [try encryptionSubkeyID(otherKey)])
        let hidden = try Subprocess.check("gpg", ["--homedir", home, "--batch", "--trust-model", "always", "--throw-keyids",
                                                  "--encrypt", "--recipient", otherKey], input: Data("y".utf8)).stdout
        #expect(try GPGContext(homeDirectory: home).recipients(of: hidden) == ["0000000000000000"])
        let symmetric = try Subprocess.check("gpg", ["--homedir", home, "--batch", "--pinentry-mode", "loopback",
                                                     "--passphrase", "p", "--symmetric"], input: Data("y".utf8)).stdout
        #expect(try GPGContext(homeDirectory: home).recipients(of: symmetric) == [])
    }

    @Test func notAMessageIsBadInput() throws {
        let gpg = try GPGContext(homeDirectory: home)
        for junk in [Data("hello".utf8), Data(), Data("-----BEGIN PGP MESSAGE-----\n\n!!!\n-----END PGP MESSAGE-----\n".utf8)] {
            let error = #expect(throws: OperatorError.self) { try gpg.recipients(of: junk) }
            #expect(error?.status == .usage && error?.problem.contains("not an OpenPGP message") == true)
        }
        let error = #expect(throws: OperatorError.self) { try gpg.decrypt(Data("hello".utf8)) }
        #expect(error?.problem.contains("not an OpenPGP message") == true)
    }

    @Test func damagedMessageFailsToDecrypt() throws {
        let gpg = try GPGContext(homeDirectory: home)
        let binary = try gpg.encrypt(Sodium.randomBytes(4096), to: [operatorKey], armor: false)
        // One bit flipped in the encrypted session key, then one in the encrypted data (caught by the MDC).
        for position in [40, binary.count - 30] {
            var damaged = binary
            damaged[position] ^= 0x01
            let error = #expect(throws: OperatorError.self) { try gpg.decrypt(damaged) }
            #expect(error?.problem.hasPrefix("the OpenPGP message cannot be decrypted; it is damaged or was changed") == true,
                    "flipped byte \(position): \(String(describing: error))")
        }
    }

    @Test func keyLookup() throws {
        let gpg = try GPGContext(homeDirectory: home)
        let key = try #require(try gpg.key(operatorKey))
        #expect(key.fingerprint == operatorKey)
        #expect(key.userIDs == ["Valkyrie Operator <operator@lab.invalid>"])
        #expect(key.canEncrypt && key.hasSecret)
        #expect(key.subkeyIDs.first == String(operatorKey.suffix(16)))
        #expect(key.subkeyIDs.contains(try encryptionSubkeyID(operatorKey)))
        // Spaced, lower-case and long-key-id forms find the same key.
        let spaced = stride(from: 0, to: 40, by: 4).map { operatorKey.dropFirst($0).prefix(4) }.joined(separator: " ")
        #expect(try gpg.key(spaced.lowercased()) == key)
        #expect(try gpg.key(String(operatorKey.suffix(16)))?.fingerprint == operatorKey)
    }

    @Test func unknownAndMalformedFingerprintsFailClearly() throws {
        let gpg = try GPGContext(homeDirectory: home)
        let unknown = String(repeating: "AB", count: 20)
        #expect(try gpg.key(unknown) == nil)
        let encrypt = #expect(throws: OperatorError.self) { try gpg.encrypt(Data("x".utf8), to: [operatorKey, unknown]) }
        #expect(encrypt?.problem.hasPrefix("no public key for \(unknown)") == true)
        let export = #expect(throws: OperatorError.self) { try gpg.exportPublicKey(unknown) }
        #expect(export?.problem.hasPrefix("no public key for \(unknown)") == true)
        // A user-ID pattern is not a fingerprint: it could match a key nobody chose.
        let pattern = #expect(throws: OperatorError.self) { try gpg.encrypt(Data("x".utf8), to: ["operator@lab.invalid"]) }
        #expect(pattern?.status == .usage && pattern?.problem.contains("is not a key fingerprint") == true)
        #expect(throws: OperatorError.self) { try gpg.encrypt(Data("x".utf8), to: []) }
        let noHome = #expect(throws: OperatorError.self) { try GPGContext(homeDirectory: "/nonexistent/valkyrie-gnupg") }
        #expect(noHome?.problem.contains("/nonexistent/valkyrie-gnupg does not exist") == true)
    }

    @Test func aKeyringWithoutTheSecretKey() throws {
        let exported = try GPGContext(homeDirectory: home).exportPublicKey(operatorKey)
        #expect(String(decoding: exported, as: UTF8.self).hasPrefix("-----BEGIN PGP PUBLIC KEY BLOCK-----"))
        try withTemporaryGnuPGHome { publicOnly in
            let gpg = try GPGContext(homeDirectory: publicOnly)
            #expect(try gpg.importKeys(exported) == [operatorKey])
            let key = try #require(try gpg.key(operatorKey))
            #expect(key.canEncrypt && !key.hasSecret)
            let message = try gpg.encrypt(Data("for the operator".utf8), to: [operatorKey])
            let subkey = try encryptionSubkeyID(operatorKey)
            #expect(try gpg.recipients(of: message) == [subkey])
            let error = #expect(throws: OperatorError.self) { try gpg.decrypt(message) }
            #expect(error?.problem.hasPrefix("no secret key to decrypt this message (encrypted to \(subkey))") == true)
            // The keyring that has the secret key decrypts it.
            #expect(try GPGContext(homeDirectory: home).decrypt(message) == Data("for the operator".utf8))
        }
    }

    @Test func importRefusesWhatIsNoKey() throws {
        try withTemporaryGnuPGHome { empty in
            let error = #expect(throws: OperatorError.self) { try GPGContext(homeDirectory: empty).importKeys(Data("no key here".utf8)) }
            #expect(error?.status == .usage && error?.problem.contains("holds no OpenPGP keys") == true)
        }
    }
}

/// Runs `body` with a fresh, empty GnuPG home; afterwards stops its gpg-agent and removes it, also on failure.
func withTemporaryGnuPGHome(_ body: (String) throws -> Void) throws {
    let home = try makeTemporaryDirectory("valkyrie-gnupg")
    defer {
        _ = try? Subprocess.run("gpgconf", ["--homedir", home, "--kill", "all"])
        try? FileManager.default.removeItem(atPath: home)
    }
    try body(home)
}
