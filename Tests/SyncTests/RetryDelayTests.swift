import Foundation
import Testing

@testable import Sync

/// A Drive's `Retry-After` is outside data: whatever it says, the delay is a finite number of seconds within a minute,
/// so converting it to milliseconds can never trap the sync process.
@Suite("Retry delays from the Drive")
struct RetryDelayTests {
    @Test(arguments: [Double.nan, -.infinity, .infinity, -1e300, 1e300, -5, 0, 3, 59.5, 61] as [Double?] + [nil])
    func anyRetryAfterGivesAFiniteDelayWithinAMinute(_ retryAfter: Double?) throws {
        let delay = try #require(SyncEngine.retryDelay(WebDAVError.throttled(retryAfter: retryAfter), attempt: 3, base: 0.5))
        #expect(delay.isFinite && delay >= 0 && delay <= 60)
        _ = Int(delay * 1000)  // the conversion the engine makes
    }
}
