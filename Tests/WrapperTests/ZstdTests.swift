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
}
