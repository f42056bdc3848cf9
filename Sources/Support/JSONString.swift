import Foundation

extension JSONFormat {
    /// Appends `text` as a JSON string the way `encoder()` writes it: quote, backslash and the control characters
    /// escaped as Foundation escapes them, nothing else (slashes and non-ASCII characters stay as they are).
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var plain = true
        let bytes = text.utf8.span  // indexing a span is about twice as fast as iterating the UTF-8 view
        for i in bytes.indices where bytes[i] < 0x20 || bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "\\") {
            plain = false
            break
        }
        // `out` is touched a few times per string, never per byte (a caller's may be a class's array: each touch is
        // an exclusivity check).
        guard !plain else {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        var escaped: [UInt8] = [UInt8(ascii: "\"")]
        escaped.reserveCapacity(text.utf8.count + 16)
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): escaped += [UInt8(ascii: "\\"), byte]
            case 0x08: escaped += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: escaped += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: escaped += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: escaped += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: escaped += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20: escaped += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: escaped.append(byte)
            }
        }
        escaped.append(UInt8(ascii: "\""))
        out.append(contentsOf: escaped)
    }
}
