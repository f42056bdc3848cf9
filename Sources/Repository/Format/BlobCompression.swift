import Foundation
import Zstd

/// zstd per blob, skipped when a sample of the blob does not compress (ciphertext, media, archives).
enum BlobCompression {
    static let sampleSlice = 16 << 10

    /// The bytes to store and whether they are compressed.
    static func pack(_ raw: Data) throws -> (bytes: Data, compressed: Bool) {
        guard raw.count >= 64, try sampleCompresses(raw) else { return (raw, false) }
        let compressed = try Zstd.compress(raw, level: 3)
        return compressed.count < raw.count ? (compressed, true) : (raw, false)
    }

    static func unpack(_ stored: Data, compressed: Bool, rawLength: Int) throws -> Data {
        compressed ? try Zstd.decompress(stored, limit: rawLength) : stored
    }

    /// Start, middle and end slices compressed together at level 1 must shrink below 95 %.
    static func sampleCompresses(_ raw: Data) throws -> Bool {
        if raw.count <= 3 * sampleSlice {
            return Double(try Zstd.compress(raw, level: 1).count) < 0.95 * Double(raw.count)
        }
        let base = raw.startIndex, middle = base + raw.count / 2 - sampleSlice / 2
        var sample = Data(raw[base..<(base + sampleSlice)])
        sample.append(raw[middle..<(middle + sampleSlice)])
        sample.append(raw[(raw.endIndex - sampleSlice)...])
        return Double(try Zstd.compress(sample, level: 1).count) < 0.95 * Double(sample.count)
    }
}
