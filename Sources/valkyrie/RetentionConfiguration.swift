import Foundation
import Repository
import Retention
import Support

extension Configuration {
    /// `retention:` in the configuration file, so a timer can run `valkyrie forget --prune` without flags.
    struct RetentionSettings: Decodable, Sendable {
        var keepLast: Int?
        var keepDaily: Int?
        var keepWeekly: Int?
        var keepMonthly: Int?
        var keepYearly: Int?
        /// A span such as `7d` or `36h`.
        var keepWithin: String?
        var keepProven: Int?
        /// How long prune leaves new packs alone and waits before deleting condemned ones (default 12h).
        var pruneGrace: String?
        /// Repack a pack once more than this percentage of it is unused (default 20).
        var repackThreshold: Int?

        enum CodingKeys: String, CodingKey {
            case keepLast = "keep_last", keepDaily = "keep_daily", keepWeekly = "keep_weekly"
            case keepMonthly = "keep_monthly", keepYearly = "keep_yearly", keepWithin = "keep_within"
            case keepProven = "keep_proven", pruneGrace = "prune_grace", repackThreshold = "repack_threshold"
        }

        func policy() throws -> RetentionPolicy {
            let counts = [("keep_last", keepLast), ("keep_daily", keepDaily), ("keep_weekly", keepWeekly),
                          ("keep_monthly", keepMonthly), ("keep_yearly", keepYearly), ("keep_proven", keepProven)]
            for (name, value) in counts where (value ?? 1) < 1 {
                throw OperatorError.badInput("retention.\(name) is \(value!) in the config", remedy: "use a count of 1 or more, or leave it out")
            }
            return RetentionPolicy(last: keepLast, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly,
                                   yearly: keepYearly, within: try keepWithin.map { try span($0, "retention.keep_within") },
                                   proven: keepProven)
        }
    }

    /// Prune's settings: flags first, then `retention:` in the config, then the defaults.
    func pruneOptions(grace: String?, repackThreshold: Int?) throws -> PruneOptions {
        let graceText = grace ?? retention?.pruneGrace
        let threshold = repackThreshold ?? retention?.repackThreshold ?? Int(PruneOptions.defaultRepackThreshold * 100)
        guard (0...100).contains(threshold) else {
            throw OperatorError.badInput("repack threshold \(threshold) is not a percentage", remedy: "use 0 to 100")
        }
        return PruneOptions(grace: try graceText.map { try span($0, grace == nil ? "retention.prune_grace" : "--grace") }
                                ?? PruneOptions.defaultGrace,
                            repackThreshold: Double(threshold) / 100)
    }
}

/// A span (`7d`, `36h`, `0s`), or bad input naming the setting.
func span(_ text: String, _ setting: String) throws -> TimeInterval {
    guard let value = Span.parse(text) else {
        throw OperatorError.badInput("\(setting) \"\(text)\" is not a span", remedy: "write it like 90m, 36h, 7d, 2w or 1y")
    }
    return value
}
