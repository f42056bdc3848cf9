import Foundation

/// How often and how long a failed request is tried again.
///
/// Only failures that say "try later" are retried: 5xx answers, 429 and S3's throttling codes, S3's
/// `RequestTimeout`, and transport failures (connection refused, reset or cut mid-response, time-outs). Other
/// 4xx answers are the caller's mistake and fail at once. Delays grow exponentially with full jitter, so
/// clients that failed together do not come back together.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first one included.
    public var maxAttempts: Int
    /// The ceiling of the first delay; it doubles with each attempt up to `maxDelay`.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// No new attempt starts once this much time has passed since the first.
    public var maxElapsed: Duration
    /// An attempt that neither sends nor receives a byte for this long is abandoned (and retried): a stalled
    /// connection costs this much, not the whole budget.
    public var stallTimeout: Duration

    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration, maxElapsed: Duration,
                stallTimeout: Duration = .seconds(30)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxElapsed = maxElapsed
        self.stallTimeout = stallTimeout
    }

    public static let standard = RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(100),
                                             maxDelay: .seconds(10), maxElapsed: .seconds(180))
    public static let none = RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero, maxElapsed: .zero)

    /// The pause before attempt `attempt + 1` (attempt counts from 1): uniform in [0, min(max, base * 2^(attempt-1))].
    public func delay(after attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(max(attempt - 1, 0), 30)))
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos))
    }
}
