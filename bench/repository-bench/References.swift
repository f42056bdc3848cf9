import Crypto
import Foundation
import Support
import Sodium
import Zstd

/// The physical references of bench/run: what one core does with the primitives of the write and read paths,
/// through the same libraries Valkyrie links (swift-crypto for SHA-256 and AES-256-GCM, libzstd at level 3).
extension RepositoryBench {
    struct References: Encodable {
        let mib: Int
        let sha256MiBPerSecond: Double
        let aes256gcmMiBPerSecond: Double
        let zstd3MiBPerSecond: Double
        /// Input bytes per compressed byte of the text-like data zstd was given.
        let zstd3Ratio: Double
    }

    static func references(mib: Int) throws {
        let random = Sodium.randomBytes(1 << 20)
        var generator = SystemRandomNumberGenerator()
        var text = ""
        while text.utf8.count < 1 << 20 {
            text += "\(Int.random(in: 0..<1_000_000, using: &generator)) vault key share policy bucket sync user role\n"
        }
        let compressible = Data(text.utf8.prefix(1 << 20))

        let sha = try rate(mib) { _ = SHA256.hash(data: random) }
        let key = SymmetricKey(size: .bits256)
        let aes = try rate(mib) { _ = try AES.GCM.seal(random, using: key) }
        var compressed = 0
        let zstd = try rate(mib) { compressed = try Zstd.compress(compressible, level: 3).count }
        let result = References(mib: mib, sha256MiBPerSecond: sha, aes256gcmMiBPerSecond: aes, zstd3MiBPerSecond: zstd,
                                zstd3Ratio: Double(compressible.count) / Double(max(compressed, 1)))
        report(String(decoding: try JSONFormat.encoder().encode(result), as: UTF8.self))
    }

    /// MiB per second of `mib` calls of `body` on one 1 MiB block, on this thread alone.
    static func rate(_ mib: Int, _ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<mib { try body() }
        return Double(mib) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
