import Foundation
import Testing
import Zstd

@Suite struct ZstdTests {
    @Test func roundTrip() throws {
        let text = Data(String(repeating: "vaulthalla ", count: 10_000).utf8)
        let packed = try Zstd.compress(text)
        #expect(packed.count < text.count / 20)
        #expect(try Zstd.decompress(packed) == text)
    }

    @Test func emptyInput() throws {
        #expect(try Zstd.decompress(try Zstd.compress(Data())) == Data())
    }

    @Test func garbageIsAnError() {
        #expect(throws: (any Error).self) { try Zstd.decompress(Data("not zstd at all".utf8)) }
    }

    @Test func frameOverTheLimitIsRefused() throws {
        let packed = try Zstd.compress(Data(count: 1 << 20))
        #expect(throws: (any Error).self) { try Zstd.decompress(packed, limit: 1000) }
    }

    /// 2000 lines, and the same with every 500th value changed and one line added (`zstd --patch-from`'s input).
    static let patchBase = Data((0..<2000).map { "row \($0)\tvalue \($0 * 7)\n" }.joined().utf8)
    static let patched = Data(((0..<2000).map { "row \($0)\tvalue \($0 % 500 == 0 ? -1 : $0 * 7)\n" }.joined() + "row 2000\tnew\n").utf8)

    /// The same bytes come out of libzstd 1.5's one-shot `ZSTD_compress2` on these inputs with the parameters the
    /// wrapper used before it streamed patches (level 3, window log 17, long matching, checksum): patches of
    /// repositories written then decode as before.
    @Test("a patch made by the zstd 1.5 CLI (`zstd -3 --patch-from`) decompresses on its prefix")
    func patchFromTheCLI() throws {
        let cli = try #require(Data(base64Encoded: "KLUv/WSMmGUBAIgtMS0xLTEtMTIwMDAJbmV3CgUQD/FIMMNjqFOY4bFFOczwmIEkZnhEzHBBQ1LRow=="))
        #expect(try Zstd.decompress(cli, prefix: Self.patchBase, limit: 1 << 20) == Self.patched)
    }

    @Test("a patch on a prefix costs what differs; it needs that prefix back")
    func patchRoundTrip() throws {
        let patch = try #require(try Zstd.compress(Self.patched, prefix: Self.patchBase))
        let whole = try Zstd.compress(Self.patched)
        #expect(patch.count < 100 && patch.count * 20 < whole.count)
        #expect(try Zstd.decompress(patch, prefix: Self.patchBase, limit: 1 << 20) == Self.patched)
        // Another prefix of the same length fails the frame's checksum rather than yield other bytes.
        var other = Self.patchBase
        other[100] ^= 1
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: other, limit: 1 << 20) }
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: Data(), limit: 1 << 20) }
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: Self.patchBase, limit: 1000) }
        let empty = try #require(try Zstd.compress(Data(), prefix: Self.patchBase))
        #expect(try Zstd.decompress(empty, prefix: Self.patchBase, limit: 10) == Data())
    }

    /// `count` numbers of a 64-bit LCG (Knuth's MMIX constants), high bits.
    static func numbers(_ count: Int, seed: UInt64) -> [UInt64] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 17
        }
    }

    /// 3 MiB of rows, and the same with every 7th row changed: a patch of several of the wrapper's output pieces.
    static func bigVersions() -> (old: Data, new: Data) {
        let values = numbers(200_000, seed: 1)
        var rows = (0..<100_000).map { "row \($0)\t\(values[$0] % 1_000_000_007)\tvault \(values[100_000 + $0] % 97)\n" }
        let old = Data(rows.joined().utf8)
        for i in stride(from: 3, to: rows.count, by: 7) { rows[i] = "row \(i)\t\(values[i] / 3)\tchanged\n" }
        return (old, Data(rows.joined().utf8))
    }

    @Test("a patch larger than one output piece streams out whole, records its size and decodes on its prefix")
    func streamedPatch() throws {
        let (old, new) = Self.bigVersions()
        let patch = try #require(try Zstd.compress(new, prefix: old))
        #expect(patch.count > 2 * (128 << 10) && patch.count * 4 < new.count, "a patch of \(patch.count) bytes")
        #expect(try Zstd.decompress(patch, prefix: old, limit: new.count) == new)
        var other = old
        for i in stride(from: 0, to: other.count, by: 4096) { other[i] ^= 1 }
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: other, limit: new.count) }
        // Frames cut anywhere are errors, never a shorter file.
        for cut in [12, patch.count / 2, patch.count - 1] {
            #expect(throws: (any Error).self) { try Zstd.decompress(patch.prefix(cut), prefix: old, limit: new.count) }
        }
    }

    @Test("a patch over its limit stops and is nil; at the limit it is the patch")
    func patchLimit() throws {
        let (old, new) = Self.bigVersions()
        let patch = try #require(try Zstd.compress(new, prefix: old))
        #expect(try Zstd.compress(new, prefix: old, limit: patch.count) == patch)
        #expect(try Zstd.compress(new, prefix: old, limit: patch.count - 1) == nil)
        #expect(try Zstd.compress(new, prefix: old, limit: 0) == nil)
        // Unrelated bytes on the prefix: no patch is worth an eighth of them.
        let noise = Data(Self.numbers(1 << 20, seed: 2).map { UInt8(truncatingIfNeeded: $0) })
        #expect(try Zstd.compress(noise, prefix: old, limit: noise.count / 8) == nil)
    }

    @Test func patchOverTheSpanIsRefused() {
        #expect(throws: (any Error).self) { try Zstd.compress(Data(count: 16), prefix: Data(count: Zstd.patchSpan)) }
    }
}
