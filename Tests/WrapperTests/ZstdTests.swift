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

    @Test("a patch made by the zstd 1.5 CLI (`zstd -3 --patch-from`) decompresses on its prefix")
    func patchFromTheCLI() throws {
        let cli = try #require(Data(base64Encoded: "KLUv/WSMmGUBAIgtMS0xLTEtMTIwMDAJbmV3CgUQD/FIMMNjqFOY4bFFOczwmIEkZnhEzHBBQ1LRow=="))
        #expect(try Zstd.decompress(cli, prefix: Self.patchBase, limit: 1 << 20) == Self.patched)
    }

    @Test("a patch on a prefix costs what differs; it needs that prefix back")
    func patchRoundTrip() throws {
        let patch = try Zstd.compress(Self.patched, prefix: Self.patchBase)
        let whole = try Zstd.compress(Self.patched)
        #expect(patch.count < 100 && patch.count * 20 < whole.count)
        #expect(try Zstd.decompress(patch, prefix: Self.patchBase, limit: 1 << 20) == Self.patched)
        // Another prefix of the same length fails the frame's checksum rather than yield other bytes.
        var other = Self.patchBase
        other[100] ^= 1
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: other, limit: 1 << 20) }
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: Data(), limit: 1 << 20) }
        #expect(throws: (any Error).self) { try Zstd.decompress(patch, prefix: Self.patchBase, limit: 1000) }
        #expect(try Zstd.decompress(try Zstd.compress(Data(), prefix: Self.patchBase), prefix: Self.patchBase, limit: 10) == Data())
    }

    @Test func patchOverTheSpanIsRefused() {
        #expect(throws: (any Error).self) { try Zstd.compress(Data(count: 16), prefix: Data(count: Zstd.patchSpan)) }
    }
}
