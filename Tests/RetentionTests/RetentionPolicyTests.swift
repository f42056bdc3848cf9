import Foundation
import Retention
import Testing

@Suite struct RetentionPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-18T09:46:40Z
    static let day: TimeInterval = 86400

    static func set(_ sequence: Int64, daysAgo: Double, landedDaysAgo: Double? = 0, proven: Bool = false) -> RetentionCandidate {
        RetentionCandidate(id: UUID(), sequence: sequence, claimed: now.addingTimeInterval(-daysAgo * day),
                           landed: landedDaysAgo.map { now.addingTimeInterval(-$0 * day) }, proven: proven)
    }

    static func kept(_ policy: RetentionPolicy, _ sets: [RetentionCandidate]) -> Set<UUID> {
        Set(policy.apply(to: sets, now: now).filter(\.keep).map(\.id))
    }

    @Test("keep-last N keeps the N newest sets; everything else is forgotten")
    func keepLast() {
        let sets = (1...5).map { Self.set(Int64($0), daysAgo: Double(6 - $0)) }
        #expect(Self.kept(RetentionPolicy(last: 3), sets) == Set(sets.suffix(3).map(\.id)))
    }

    @Test("keep-daily N keeps the newest set of each of the N newest days; the older one of a day goes")
    func keepDaily() {
        let sets = [Self.set(1, daysAgo: 3.1), Self.set(2, daysAgo: 2.2), Self.set(3, daysAgo: 2.1), Self.set(4, daysAgo: 1.1),
                    Self.set(5, daysAgo: 0.1)]
        // Days: -3.1 and -2.2/-2.1 fall on different UTC days than -1.1 and -0.1 (now is 09:46 UTC).
        let kept = Self.kept(RetentionPolicy(daily: 3), sets)
        #expect(kept == [sets[4].id, sets[3].id, sets[2].id])
    }

    @Test("a set whose client clock ran a year ahead cannot push real sets out: time is capped by landing and by later sets")
    func forgedFutureTimestamp() {
        let real = [Self.set(1, daysAgo: 3), Self.set(2, daysAgo: 2), Self.set(4, daysAgo: 1)]
        let forged = RetentionCandidate(id: UUID(), sequence: 3, claimed: Self.now.addingTimeInterval(400 * Self.day),
                                        landed: Self.now, proven: false)
        let all = real + [forged]
        // Trusting the claimed time, the forged set would take the newest day and keep-last 1 for itself.
        #expect(Self.kept(RetentionPolicy(daily: 3), all) == Set(real.map(\.id)))
        #expect(Self.kept(RetentionPolicy(last: 1), all) == [real[2].id])
        #expect(Self.kept(RetentionPolicy(within: 2 * Self.day + 60), all).isSuperset(of: real.map(\.id)))
        let decision = RetentionPolicy(last: 1).apply(to: all, now: Self.now).first { $0.id == forged.id }
        #expect(decision?.time == real[2].claimed, "capped by the set recorded after it")

        // Recorded last, the forged set is capped by when the storage saw it land.
        let lastForged = RetentionCandidate(id: UUID(), sequence: 9, claimed: Self.now.addingTimeInterval(400 * Self.day),
                                            landed: Self.now.addingTimeInterval(-0.5 * Self.day), proven: false)
        let time = RetentionPolicy(last: 1).apply(to: real + [lastForged], now: Self.now).first { $0.id == lastForged.id }?.time
        #expect(time == Self.now.addingTimeInterval(-0.5 * Self.day))
    }

    @Test("keep-proven N pins the newest N sets a drill proved, however old")
    func keepProven() {
        let sets = [Self.set(1, daysAgo: 30, proven: true), Self.set(2, daysAgo: 20, proven: true), Self.set(3, daysAgo: 10),
                    Self.set(4, daysAgo: 1)]
        #expect(Self.kept(RetentionPolicy(last: 1, proven: 1), sets) == [sets[3].id, sets[1].id])
    }

    @Test("keep-within keeps every set within the span of the newest; weekly, monthly and yearly keep one per period")
    func withinAndPeriods() {
        let sets = (0..<60).map { Self.set(Int64($0), daysAgo: Double(59 - $0) * 7) } // weekly for 59 weeks
        #expect(Self.kept(RetentionPolicy(within: 15 * Self.day), sets).count == 3)
        #expect(Self.kept(RetentionPolicy(weekly: 4), sets).count == 4)
        #expect(Self.kept(RetentionPolicy(monthly: 6), sets).count == 6)
        #expect(Self.kept(RetentionPolicy(yearly: 5), sets).count == 2)
        #expect(RetentionPolicy().isEmpty && !RetentionPolicy(within: 1).isEmpty)
    }

    @Test("spans: 90m, 36h, 7d, 2w, 1y and combinations parse; anything else does not")
    func spans() {
        #expect(Span.parse("90m") == 5400 && Span.parse("36h") == 129_600 && Span.parse("7d") == 604_800)
        #expect(Span.parse("2w") == 1_209_600 && Span.parse("1y") == 31_536_000 && Span.parse("1d12h") == 129_600)
        #expect(Span.parse("0s") == 0)
        for bad in ["", "7", "d", "7x", "-1d", "1.5h", "7d3"] { #expect(Span.parse(bad) == nil, "\(bad)") }
        #expect(Span.text(129_600) == "1d12h")
    }
}
