import Crypto
import Foundation

/// The lab's deterministic randomness: SplitMix64 seeded from (seed, stream), so a host is the same for a seed
/// and each day of `mutate` draws from its own stream.
struct LabRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64, stream: String) {
        let digest = SHA256.hash(data: Data("\(seed)/\(stream)".utf8))
        state = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> Data {
        var out = Data(capacity: count + 8)
        while out.count < count {
            var word = next()
            withUnsafeBytes(of: &word) { out.append(contentsOf: $0) }
        }
        return out.prefix(count)
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &self)]
    }
}

/// File contents: a header naming the file and revision, then pseudo-random bytes from AES-GCM over zeros
/// (fast enough for gigabytes), keyed by (seed, content id). Regenerable from the id, never stored twice.
enum Content {
    static func make(seed: UInt64, contentID: String, size: Int) -> Data {
        guard size > 0 else { return Data() }
        var out = Data("vaulthalla-lab \(contentID)\n".utf8).prefix(size)
        if out.count < size {
            let key = SymmetricKey(data: SHA256.hash(data: Data("content/\(seed)/\(contentID)".utf8)))
            let nonce = try! AES.GCM.Nonce(data: Data(count: 12))
            let stream = try! AES.GCM.seal(Data(count: size - out.count), using: key, nonce: nonce)
            out.append(stream.ciphertext)
        }
        return out
    }
}
