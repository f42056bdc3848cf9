import Foundation
import Support
import Testing
@testable import Vaulthalla

@Suite struct BodyCipherTests {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 15 (AES-256, 96-bit IV, no AAD).
    let key = Data(hex: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    let iv = Data(hex: "cafebabefacedbaddecaf888")
    let plaintext = Data(hex: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                            + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
    let ciphertext = Data(hex: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                             + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad")
    let tag = Data(hex: "b094dac5d93471bdec1a502270e3cc6c")

    @Test func sealMatchesTestCase15WithTheTagAppended() throws {
        #expect(try BodyCipher.seal(plaintext, key: key, nonce: iv) == ciphertext + tag)
    }

    @Test func openRecoversTestCase15() throws {
        #expect(try BodyCipher.open(ciphertext + tag, key: key, nonce: iv) == plaintext)
    }

    @Test func testCase14ZeroKeyOneZeroBlock() throws {
        let sealed = try BodyCipher.seal(Data(count: 16), key: Data(count: 32), nonce: Data(count: 12))
        #expect(sealed == Data(hex: "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"))
    }

    @Test func testCase13EmptyPlaintextIsJustTheTag() throws {
        let sealed = try BodyCipher.seal(Data(), key: Data(count: 32), nonce: Data(count: 12))
        #expect(sealed == Data(hex: "530f8afbc74536b9a963b4f1c4cb738b"))
    }

    @Test func aFlippedBitOrWrongKeyFailsTheTag() {
        var damaged = ciphertext + tag
        damaged[5] ^= 1
        #expect(throws: OperatorError.self) { try BodyCipher.open(damaged, key: key, nonce: iv) }
        #expect(throws: OperatorError.self) { try BodyCipher.open(ciphertext + tag, key: Data(count: 32), nonce: iv) }
        #expect(throws: OperatorError.self) { try BodyCipher.open(Data(count: 15), key: key, nonce: iv) }
        #expect(throws: OperatorError.self) { try BodyCipher.open(ciphertext + tag, key: key.prefix(16), nonce: iv) }
    }

    @Test func ivIsSixteenBase64CharactersOfTwelveBytes() throws {
        let text = BodyCipher.ivString(iv)
        #expect(text.count == 16)
        #expect(try BodyCipher.nonce(fromIV: text) == iv)
        #expect(try BodyCipher.nonce(fromIV: "") == nil)
        #expect(try BodyCipher.nonce(fromIV: nil) == nil)
        #expect(throws: OperatorError.self) { try BodyCipher.nonce(fromIV: "not base64!") }
        #expect(throws: OperatorError.self) { try BodyCipher.nonce(fromIV: Data(count: 16).base64EncodedString()) }
    }

    @Test func keyringTriesTheRecordedVersionThenTheOthers() throws {
        let v1 = Data(repeating: 1, count: 32), v2 = Data(repeating: 2, count: 32), v3 = Data(repeating: 3, count: 32)
        let ring = VaultKeyring(vaultID: 4, keys: [1: v1, 2: v2, 3: v3], currentVersion: 3)
        let body = try BodyCipher.seal(plaintext, key: v2, nonce: iv)

        let right = try ring.open(body: body, encryptionIV: BodyCipher.ivString(iv), recordedVersion: 2)
        #expect(right.plaintext == plaintext && right.keyVersion == 2 && !right.staleRecordedVersion)

        let stale = try ring.open(body: body, encryptionIV: BodyCipher.ivString(iv), recordedVersion: 3)
        #expect(stale.plaintext == plaintext && stale.keyVersion == 2 && stale.staleRecordedVersion)

        let unrecorded = try ring.open(body: body, encryptionIV: BodyCipher.ivString(iv), recordedVersion: nil)
        #expect(unrecorded.keyVersion == 2)
    }

    @Test func emptyIVMeansThePlaintextBodyAsStored() throws {
        let ring = VaultKeyring(vaultID: 1, keys: [1: key], currentVersion: 1)
        let opened = try ring.open(body: Data("written by 1.1.0".utf8), encryptionIV: "", recordedVersion: nil)
        #expect(opened.plaintext == Data("written by 1.1.0".utf8) && opened.keyVersion == nil)
        #expect(try ring.open(body: Data(), encryptionIV: "", recordedVersion: 1).plaintext.isEmpty)
    }

    @Test func noKeyOpensABodyOfAnotherVault() throws {
        let ring = VaultKeyring(vaultID: 7, keys: [1: Data(count: 32)], currentVersion: 1)
        let error = #expect(throws: OperatorError.self) {
            try ring.open(body: ciphertext + tag, encryptionIV: BodyCipher.ivString(iv), recordedVersion: 1)
        }
        #expect(error?.problem.contains("vault 7") == true)
    }

    @Test func aFileIsCheckedAgainstItsRowBeforeAndAfterDecryption() throws {
        let ring = VaultKeyring(vaultID: 3, keys: [1: key], currentVersion: 1)
        let body = ciphertext + tag
        let row = VaulthallaDatabase.FileEntry(
            fsEntryID: 9, vaultID: 3, logicalPath: "/q3 report.xlsx", backingPath: "A/B", sizeBytes: Int64(plaintext.count),
            mimeType: nil, contentHash: ContentHash.hex(of: body), encryptionIV: BodyCipher.ivString(iv), keyVersion: 1)
        #expect(try ring.open(row, body: body).plaintext == plaintext)

        var wrongHash = row
        wrongHash.contentHash = ContentHash.hex(of: Data("other".utf8))
        let hashError = #expect(throws: OperatorError.self) { try ring.open(wrongHash, body: body) }
        #expect(hashError?.problem.contains("/q3 report.xlsx") == true)
        #expect(hashError?.problem.contains("content_hash") == true)

        var wrongSize = row
        wrongSize.sizeBytes += 1
        #expect(throws: OperatorError.self) { try ring.open(wrongSize, body: body) }

        var otherNonce = row
        otherNonce.encryptionIV = BodyCipher.ivString(Data(count: 12))
        let tagError = #expect(throws: OperatorError.self) { try ring.open(otherNonce, body: body) }
        #expect(tagError?.problem.hasPrefix("vault 3 /q3 report.xlsx: no key version") == true)
    }
}
