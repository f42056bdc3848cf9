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

    @Test("body hashes are kept only for wanted paths read to their end")
    func bodyHashes() {
        let hashes = BodyHashes(wanted: [PathKey("a/b")])
        #expect(hashes.observer(for: "a/c") == nil)
        let observer = hashes.observer(for: "a/b")
        observer?.update(ArraySlice("ab".utf8))
        #expect(hashes.read("a/b") == nil)
        observer?.update(ArraySlice("c".utf8))
        observer?.finish(size: 3)
        #expect(hashes.read("a/b")?.size == 3 && hashes.read("a/b")?.hex == ContentHash.hex(of: Data("abc".utf8)))
    }

    @Test("the walk hashes the bodies with an expected hash, vault by vault, and none past the limit")
    func wantedBodies() throws {
        func line(_ path: String, hash: String?) -> VaultIndexLine {
            VaultIndexLine(vault: "v", vaultID: 1, vaultType: "local", path: "/\(path)", backingPath: path,
                           size: 1, iv: nil, keyVersion: nil, contentHash: hash, format: nil)
        }
        let vaults = [[line("a", hash: "00"), line("b", hash: nil), line("c", hash: "")], [line("d", hash: "11")]]
        // Each vault's lines come in batches (a cursor's fetches).
        #expect(try BodyHashes.wanted(vaults) { vault, visit in for one in vault { try visit([one]) } } == [PathKey("a"), PathKey("d")])
        let many = (0...BodyHashes.limit).map { line("\($0)", hash: "00") }
        #expect(try BodyHashes.wanted([many]) { vault, visit in try visit(vault) }.isEmpty)
        // Past the limit reading stops: no further batch, no further vault.
        var batches = 0, vaultsAsked = 0
        let halves = [Array(many.prefix(many.count / 2)), Array(many.suffix(from: many.count / 2)), [line("last", hash: "22")]]
        let stopped = try BodyHashes.wanted([halves, [[line("x", hash: "33")]]]) { vault, visit in
            vaultsAsked += 1
            for batch in vault {
                batches += 1
                try visit(batch)
            }
        }
        #expect(stopped.isEmpty && batches == 2 && vaultsAsked == 1)
        // An error of the reader is not swallowed.
        #expect(throws: OperatorError.self) {
            try BodyHashes.wanted([vaults[0]]) { _, _ in throw OperatorError.failed("cursor broke") }
        }
    }
}
