import Foundation

extension Data {
    /// Lowercase hexadecimal, two digits a byte: digests, ids and hashes as Valkyrie and Vaulthalla write them.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
