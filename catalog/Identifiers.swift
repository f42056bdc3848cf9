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
    /// time (RFC 9562 method 3), 62 bits of `random` (a `Batch`'s). Event UUIDs: consecutive appends land at the
    /// end of the `events.uuid` index instead of on a random page each, which kept a batch's commit writing (and
    /// later checkpointing) a large part of that index.
    static func timeOrdered(_ now: Date, random: UInt64) -> UUID {
        let microseconds = UInt64(max(0, now.timeIntervalSince1970 * 1_000_000))
        let milliseconds = microseconds / 1000
        let subMillisecond = (microseconds % 1000) * 4096 / 1000
        return uuid(high: milliseconds << 16 | 0x7000 | subMillisecond, low: random)
    }

    /// Event UUIDs for one append batch: the random part is drawn once and counted up per UUID (RFC 9562's
    /// "monotonic random", method 2, beside method 3's sub-millisecond time), so a batch makes one call to the
    /// system generator instead of one per event (a syscall each, visible in an append's profile). A batch's UUIDs
    /// are distinct and ascending; other batches and processes start from their own random value.
    struct Batch {
        private var random: UInt64

        init() {
            var generator = SystemRandomNumberGenerator()
            random = generator.next()
        }

        mutating func next(_ now: Date) -> UUID {
            random = (random &+ 1) & 0x3FFF_FFFF_FFFF_FFFF
            return timeOrdered(now, random: random)
        }
    }

    /// `high` and `low` as bytes 0-7 and 8-15, with the RFC 9562 variant set in byte 8.
    private static func uuid(high: UInt64, low: UInt64) -> UUID {
        bytes(high: high, low: low & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000)
    }

    /// The UUID whose bytes 0-7 are `high` and 8-15 are `low`, big-endian.
    private static func bytes(high: UInt64, low: UInt64) -> UUID {
        func byte(_ word: UInt64, _ n: Int) -> UInt8 { UInt8(truncatingIfNeeded: word >> (56 - 8 * n)) }
        return UUID(uuid: (byte(high, 0), byte(high, 1), byte(high, 2), byte(high, 3), byte(high, 4), byte(high, 5),
                           byte(high, 6), byte(high, 7), byte(low, 0), byte(low, 1), byte(low, 2), byte(low, 3),
                           byte(low, 4), byte(low, 5), byte(low, 6), byte(low, 7)))
    }

    /// The bytes of `id` as two big-endian words.
    private static func words(_ id: UUID) -> (high: UInt64, low: UInt64) {
        let u = id.uuid
        let high = UInt64(u.0) << 56 | UInt64(u.1) << 48 | UInt64(u.2) << 40 | UInt64(u.3) << 32
            | UInt64(u.4) << 24 | UInt64(u.5) << 16 | UInt64(u.6) << 8 | UInt64(u.7)
        let low = UInt64(u.8) << 56 | UInt64(u.9) << 48 | UInt64(u.10) << 40 | UInt64(u.11) << 32
            | UInt64(u.12) << 24 | UInt64(u.13) << 16 | UInt64(u.14) << 8 | UInt64(u.15)
        return (high, low)
    }

    private static let digits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `id.uuidString` (upper case `8-4-4-4-12`), byte for byte; one allocation (the string's).
    static func string(_ id: UUID) -> String {
        let (high, low) = words(id)
        var out = [UInt8](repeating: 45, count: 36)
        var position = 0
        for nibble in 0..<32 {
            if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
            let word = nibble < 16 ? high : low
            out[position] = digits[Int(word >> (60 - 4 * UInt64(nibble % 16)) & 0x0F)]
            position += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `8-4-4-4-12` hex in either case; nil for anything else. No allocation: listing ten thousand sets
    /// parses ten thousand of these.
    static func parse(_ text: String) -> UUID? {
        var high: UInt64 = 0, low: UInt64 = 0
        var index = 0, nibbles = 0
        let utf8 = text.utf8.span  // indexing a span is about twice as fast as iterating the UTF-8 view
        for i in utf8.indices {
            let c = utf8[i]
            defer { index += 1 }
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard c == 45 else { return nil }
                continue
            }
            let nibble: UInt64
            switch c {
            case 48...57: nibble = UInt64(c - 48)
            case 65...70: nibble = UInt64(c - 55)
            case 97...102: nibble = UInt64(c - 87)
            default: return nil
            }
            if nibbles < 16 { high = high << 4 | nibble } else { low = low << 4 | nibble }
            nibbles += 1
        }
        guard index == 36, nibbles == 32 else { return nil }
        return bytes(high: high, low: low)
    }
}

extension UUID {
    /// The UUID as the catalog stores it (upper case), without Foundation's `sprintf`.
    var storedText: String { Identifiers.string(self) }
}
