@testable import Capture
import Foundation
import Support
import Testing
import Vaulthalla

/// The body check against the vault index, with and without hashes taken while the walk read the bodies.
@Suite struct CoherenceTests {
    let folder = NSTemporaryDirectory() + "valkyrie-coherence-\(UUID().uuidString.prefix(8))"

    private func body(_ name: String, _ bytes: Data) throws -> VaultIndexLine {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: bytes))
        return VaultIndexLine(vault: "v", vaultID: 1, vaultType: "local", path: "/\(name)", backingPath: name,
                              size: Int64(bytes.count), iv: nil, keyVersion: nil, contentHash: ContentHash.hex(of: bytes), format: nil)
    }

    @Test("without hashes from the walk every body is read and hashed")
    func hashesBodies() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = try body("good", Data("one".utf8))
        var bad = try body("bad", Data("two".utf8))
        bad.contentHash = ContentHash.hex(of: Data("owt".utf8))
        let result = Coherence(dataDirectory: folder, verifyHashes: true).check([good, bad])
        #expect(result.hashed == [true, false])
        #expect(result.problems.count == 1 && result.problems[0].contains("bad") && result.problems[0].contains("BLAKE2b"))
    }

    @Test("the walk's hash is used while the size is unchanged, so the check judges the bytes in the set")
    func usesWalkHashes() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let line = try body("b", Data("abc".utf8))
        // The walk read other bytes of the same size: that is what the set holds, and it does not match.
        let other = ContentHash.hex(of: Data("xyz".utf8))
        let walked = Coherence(dataDirectory: folder, verifyHashes: true).check([line], read: { _ in (3, other) })
        #expect(walked.hashed == [false] && walked.problems.count == 1)
        // The walk's hash matches: the body is not read again (its bytes on disk no longer matter).
        #expect(FileManager.default.createFile(atPath: "\(folder)/b", contents: Data("zzz".utf8)))
        let matched = Coherence(dataDirectory: folder, verifyHashes: true)
            .check([line], read: { _ in (3, line.contentHash!) })
        #expect(matched.hashed == [true] && matched.problems.isEmpty)
        // A walk size that differs from the body's is ignored and the body is hashed.
        let stale = Coherence(dataDirectory: folder, verifyHashes: true).check([line], read: { _ in (4, line.contentHash!) })
        #expect(stale.hashed == [false] && stale.problems.count == 1)
    }

    @Test("body hashes are kept for files read to their end")
    func bodyHashes() {
        let hashes = BodyHashes()
        let observer = hashes.observer(for: "a/b")
        observer?.update(ArraySlice("ab".utf8))
        #expect(hashes.read("a/b") == nil)
        observer?.update(ArraySlice("c".utf8))
        observer?.finish(size: 3)
        #expect(hashes.read("a/b")?.size == 3 && hashes.read("a/b")?.hex == ContentHash.hex(of: Data("abc".utf8)))
        #expect(hashes.read("a/c") == nil)
    }

    @Test("the walk hashes no more than the limit of files; the check reads the others itself")
    func hashesUpToTheLimit() {
        let hashes = BodyHashes()
        #expect((0..<BodyHashes.limit).count { hashes.observer(for: "f\($0)") != nil } == BodyHashes.limit)
        #expect(hashes.observer(for: "over") == nil)
        #expect(hashes.observer(for: "f0") == nil)
    }
}
