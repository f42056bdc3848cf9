import Foundation

/// Which sets to keep: restic's rules (last N, newest per hour/day/week/month/year, all within a span of the
/// newest), plus the newest N sets a drill proved restorable. A set is kept if any rule keeps it.
public struct RetentionPolicy: Sendable, Codable, Equatable {
    public var last: Int?
    public var daily: Int?
    public var weekly: Int?
    public var monthly: Int?
    public var yearly: Int?
    /// Keep every set within this span of the newest set.
    public var within: TimeInterval?
    /// Keep the newest N sets with a passed drill.
    public var proven: Int?

    public init(last: Int? = nil, daily: Int? = nil, weekly: Int? = nil, monthly: Int? = nil, yearly: Int? = nil,
                within: TimeInterval? = nil, proven: Int? = nil) {
        self.last = last; self.daily = daily; self.weekly = weekly; self.monthly = monthly; self.yearly = yearly
        self.within = within; self.proven = proven
    }

    /// No rule at all: everything would be forgotten.
    public var isEmpty: Bool {
        [last, daily, weekly, monthly, yearly, proven].allSatisfy { $0 == nil } && within == nil
    }

    /// The rules as an operator would write them (`keep-last 3, keep-daily 7`).
    public var summary: String {
        var parts: [String] = []
        for (name, value) in [("last", last), ("daily", daily), ("weekly", weekly), ("monthly", monthly), ("yearly", yearly),
                              ("proven", proven)] {
            if let value { parts.append("keep-\(name) \(value)") }
        }
        if let within { parts.append("keep-within \(Span.text(within))") }
        return parts.isEmpty ? "no rule" : parts.joined(separator: ", ")
    }
}

/// One set as retention sees it.
public struct RetentionCandidate: Sendable, Equatable {
    public var id: UUID
    /// The catalog's sequence number of the set's start: the order sets were really recorded in.
    public var sequence: Int64
    /// The time the writing client claims (the set's start).
    public var claimed: Date
    /// When the set's snapshot landed, by the storage's clock; nil when the repository does not say.
    public var landed: Date?
    /// A drill of the set passed.
    public var proven: Bool

    public init(id: UUID, sequence: Int64, claimed: Date, landed: Date?, proven: Bool) {
        self.id = id; self.sequence = sequence; self.claimed = claimed; self.landed = landed; self.proven = proven
    }
}

/// What retention decided for one set.
public struct RetentionDecision: Sendable, Codable, Equatable {
    public var id: UUID
    public var keep: Bool
    /// The rules that keep it (`last`, `daily 2026-11-29`, ...); empty when forgotten.
    public var reasons: [String]
    /// The time the rules used: the claimed time, no later than when the set landed, than `now`, or than any
    /// set recorded after it.
    public var time: Date
}

extension RetentionPolicy {
    /// Decides for every candidate (one host's sets), newest first. A client clock set into the future cannot
    /// make a set look newer than sets recorded after it, nor newer than the storage saw it land.
    public func apply(to candidates: [RetentionCandidate], now: Date = Date()) -> [RetentionDecision] {
        // Effective times, walking from the last recorded set back: never later than a set recorded after.
        var bound = now
        var timed: [(candidate: RetentionCandidate, time: Date)] = []
        for candidate in candidates.sorted(by: { $0.sequence > $1.sequence }) {
            let time = min(candidate.claimed, candidate.landed ?? candidate.claimed, bound)
            bound = time
            timed.append((candidate, time))
        }
        // Newest first; equal times go by sequence, so the later-recorded set counts as the newer.
        timed.sort { ($0.time, $0.candidate.sequence) > ($1.time, $1.candidate.sequence) }
        let newest = timed.first?.time ?? now

        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func key(_ date: Date, _ components: Set<Calendar.Component>) -> String {
            let parts = calendar.dateComponents(components, from: date)
            return [parts.yearForWeekOfYear ?? parts.year, parts.month, parts.weekOfYear, parts.day, parts.hour]
                .compactMap { $0.map(String.init) }.joined(separator: "-")
        }
        let buckets: [(name: String, count: Int?, components: Set<Calendar.Component>)] = [
            ("daily", daily, [.year, .month, .day]), ("weekly", weekly, [.yearForWeekOfYear, .weekOfYear]),
            ("monthly", monthly, [.year, .month]), ("yearly", yearly, [.year]),
        ]
        var remaining = buckets.map { $0.count ?? 0 }
        var lastKey = buckets.map { _ in "" }
        var lastLeft = last ?? 0, provenLeft = proven ?? 0

        return timed.map { candidate, time in
            var reasons: [String] = []
            if lastLeft > 0 { lastLeft -= 1; reasons.append("last") }
            for (i, bucket) in buckets.enumerated() where remaining[i] > 0 {
                let period = key(time, bucket.components)
                if period != lastKey[i] {
                    lastKey[i] = period
                    remaining[i] -= 1
                    reasons.append("\(bucket.name) \(period)")
                }
            }
            if let within, newest.timeIntervalSince(time) <= within { reasons.append("within \(Span.text(within))") }
            if candidate.proven && provenLeft > 0 { provenLeft -= 1; reasons.append("proven") }
            return RetentionDecision(id: candidate.id, keep: !reasons.isEmpty, reasons: reasons, time: time)
        }
    }
}

/// Spans as operators write them: `90m`, `36h`, `7d`, `2w`, `1y`, or combined (`1d12h`); `m` is minutes.
public enum Span {
    static let units: [(Character, TimeInterval)] = [("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600),
                                                     ("m", 60), ("s", 1)]

    public static func parse(_ text: String) -> TimeInterval? {
        var total: TimeInterval = 0, digits = "", sawUnit = false
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if let unit = units.first(where: { $0.0 == character }), let count = Int(digits) {
                total += TimeInterval(count) * unit.1
                digits = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        return sawUnit && digits.isEmpty ? total : nil
    }

    public static func text(_ interval: TimeInterval) -> String {
        var rest = Int(interval), out = ""
        for (unit, seconds) in units where rest >= Int(seconds) {
            out += "\(rest / Int(seconds))\(unit)"
            rest %= Int(seconds)
        }
        return out.isEmpty ? "0s" : out
    }
}
