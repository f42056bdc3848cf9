import Crypto
import Foundation
import Sodium
import Support

/// `files.content_hash`: BLAKE2b-256, lower-case hex, of the body as stored (the ciphertext, not the plaintext).
public enum ContentHash {
    public static func hex(of data: Data) -> String {
        hexString(Sodium.blake2b256(data))
    }

    /// Hashes a body file in 1 MiB reads, without holding it.
    public static func hex(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OperatorError.failed("cannot read \(path)", remedy: "check that the body exists and is readable")
        }
        defer { try? handle.close() }
        let hasher = Blake2b256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hexString(hasher.finalize())
    }

    public static func hexString(_ data: Data) -> String { data.hexString }
}


extension ContentHash {
    /// SHA-256, lower-case hex.
    public static func sha256Hex(_ data: Data) -> String {
        hexString(Data(SHA256.hash(data: data)))
    }
}
