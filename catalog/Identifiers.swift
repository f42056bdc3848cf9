import Foundation

/// UUIDs made, written and read without Foundation's slow paths on Linux (a fresh `/dev/urandom` open per
/// `UUID()`, `sprintf` per `uuidString`, `sscanf` per `UUID(uuidString:)`), which dominated the cost of an
/// append and of listing sets.
enum Identifiers {
    /// A random (version 4) UUID from the system generator (`getrandom`): sets and drills.
    static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return uuid(high: generator.next() & ~0xF000 | 0x4000, low: generator.next())
    }

    /// A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds, 12 bits of sub-millisecond
    /// time (RFC 9562 method 3), 62 random bits. Event UUIDs: consecutive appends land at the end of the
    /// `events.uuid` index instead of on a random page each, which kept a batch's commit writing (and later
    /// checkpointing) a large part of that index.
    static func timeOrdered(_ now: Date = Date()) -> UUID {
        let microseconds = UInt64(max(0, now.timeIntervalSince1970 * 1_000_000))
        let milliseconds = microseconds / 1000
        let subMillisecond = (microseconds % 1000) * 4096 / 1000
        var generator = SystemRandomNumberGenerator()
        return uuid(high: milliseconds << 16 | 0x7000 | subMillisecond, low: generator.next())
    }

    /// `high` and `low` as bytes 0-7 and 8-15, with the RFC 9562 variant set in byte 8.
    private static func uuid(high: UInt64, low: UInt64) -> UUID {
        let low = low & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        func byte(_ word: UInt64, _ n: Int) -> UInt8 { UInt8(truncatingIfNeeded: word >> (56 - 8 * n)) }
        return UUID(uuid: (byte(high, 0), byte(high, 1), byte(high, 2), byte(high, 3), byte(high, 4), byte(high, 5),
                           byte(high, 6), byte(high, 7), byte(low, 0), byte(low, 1), byte(low, 2), byte(low, 3),
                           byte(low, 4), byte(low, 5), byte(low, 6), byte(low, 7)))
    }

    private static let digits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `id.uuidString` (upper case `8-4-4-4-12`), byte for byte.
    static func string(_ id: UUID) -> String {
        var out = [UInt8]()
        out.reserveCapacity(36)
        let u = id.uuid
        for (n, byte) in [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15].enumerated() {
            if n == 4 || n == 6 || n == 8 || n == 10 { out.append(45) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
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

extension UUID {
    /// The UUID as the catalog stores it (upper case), without Foundation's `sprintf`.
    var storedText: String { Identifiers.string(self) }
}
