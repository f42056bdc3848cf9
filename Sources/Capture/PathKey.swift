import Crypto
import Foundation

/// A path as the first 128 bits of its SHA-256 (as entry versions are): 16 bytes in a table where the path itself
/// (alias paths are ~140 characters) would cost ten times as much.
struct PathKey: Hashable, Comparable, Sendable {
    let high: UInt64, low: UInt64

    init(_ path: String) {
        let digest = Array(SHA256.hash(data: Data(path.utf8)).prefix(16))
        high = digest[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func < (a: PathKey, b: PathKey) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}
