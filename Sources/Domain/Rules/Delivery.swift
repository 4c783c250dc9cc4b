import Foundation

/// When a message that could not be delivered (an SMTP server down, a webhook receiver failing) is tried again: an
/// exponential backoff with jitter, from 30 seconds up to 6 hours between attempts, for up to 3 days after it was
/// queued; then it is marked failed (the team sees it and may replay it).
public enum DeliveryRules {
    /// How long a message is tried before it is marked failed.
    public static let giveUpAfter: TimeInterval = 3 * 86_400
    /// The wait after the first failure.
    public static let firstDelay: TimeInterval = 30
    /// The longest wait between two attempts.
    public static let longestDelay: TimeInterval = 6 * 3_600
    /// How long what ended is remembered: notices settled and deliveries delivered; failed deliveries three times as
    /// long, for the team to look at and replay.
    public static let keepSettled: TimeInterval = 30 * 86_400
    public static let keepFailed: TimeInterval = 90 * 86_400

    /// The wait after `failures` failed attempts (1 or more): doubled each time up to `longestDelay`, then drawn in its
    /// upper half with `jitter` (0 to 1), so that receivers that came back are not hit by every sender at once.
    public static func retryDelay(afterFailures failures: Int, jitter: Double) -> TimeInterval {
        let doublings = min(max(failures - 1, 0), 30)
        let base = min(firstDelay * Double(1 << doublings), longestDelay)
        let spread = jitter.isFinite ? min(max(jitter, 0), 1) : 0
        return base / 2 + base / 2 * spread
    }

    /// When to try again a message queued at `queued` that just failed for the `failures`-th time, or nil when its time
    /// is up (it is marked failed).
    public static func nextAttempt(queued: Date, failures: Int, now: Date, jitter: Double) -> Date? {
        let next = now.addingTimeInterval(retryDelay(afterFailures: failures, jitter: jitter))
        return next.timeIntervalSince(queued) > giveUpAfter ? nil : next
    }
}
