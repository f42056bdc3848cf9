import Foundation

/// UUIDs made and read without Foundation's slow paths on Linux (a fresh `/dev/urandom` open per `UUID()`,
/// `sscanf` per `UUID(uuidString:)`), which dominated the cost of an append and of listing sets.
enum Identifiers {
    /// A random (version 4) UUID from the system generator (`getrandom`).
    static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next(), low: UInt64 = generator.next()
        var b = (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// Parses `8-4-4-4-12` hex in either case; nil for anything else.
    static func parse(_ text: String) -> UUID? {
        var b: [UInt8] = []
        b.reserveCapacity(16)
        var high: UInt8?
        var index = 0
        for c in text.utf8 {
            defer { index += 1 }
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard c == 45 else { return nil }
                continue
            }
            let nibble: UInt8
            switch c {
            case 48...57: nibble = c - 48
            case 65...70: nibble = c - 55
            case 97...102: nibble = c - 87
            default: return nil
            }
            if let h = high { b.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        guard index == 36, b.count == 16 else { return nil }
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
