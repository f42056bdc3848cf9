import Foundation
import Sodium

/// Vaulthalla's 33-character aliases, `<P6>_<B26>` in Crockford base32: the only names bodies have on disk.
///
/// P6 is derived from the entry's name (for a vault root, the vault's name), B26 from 16 random bytes.
public enum Alias {
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    public static let length = 33
    /// Random bytes behind the B26 part.
    public static let randomByteCount = 16

    /// The alias of an entry called `name`, with its 16 random bytes.
    public static func make(name: String, random: Data) -> String {
        precondition(random.count == randomByteCount, "an alias needs 16 random bytes")
        return prefix(for: name) + "_" + crockford(random)
    }

    /// P6: the first 30 bits of BLAKE2b-256 of the UTF-8 name, in Crockford base32.
    public static func prefix(for name: String) -> String {
        String(crockford(Sodium.blake2b256(Data(name.utf8)).prefix(4)).prefix(6))
    }

    /// Crockford base32 of `data`, most significant bit first, the last group padded with zero bits.
    public static func crockford(_ data: Data) -> String {
        var out = ""
        out.reserveCapacity((data.count * 8 + 4) / 5)
        var buffer: UInt32 = 0, bits = 0
        for byte in data {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }

    /// Whether `text` has the shape of an alias: 6 + `_` + 26 characters of the Crockford alphabet.
    public static func isValid(_ text: String) -> Bool {
        let chars = Array(text)
        guard chars.count == length, chars[6] == "_" else { return false }
        return chars.enumerated().allSatisfy { index, c in index == 6 || alphabet.contains(c) }
    }
}
