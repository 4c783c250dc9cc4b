import Foundation
import Synchronization

/// The Drive's own time, as the `Date` header of its answers tells it (whole seconds, the server's clock, the one its
/// file dates come from). On a Drive whose file tags count whole seconds (wsgidav: inode, mtime in seconds, size), a
/// write someone makes in the same second as the engine's, of the same size, keeps the tag: the engine could not tell
/// it from its own. So there a new file goes up under a name of the engine's own and is moved into place only once
/// this clock has passed the second of that upload: any later write falls in a later second and moves the tag.
public final class DriveClock: Sendable {
    private struct State {
        var latest: Date?
        /// When an answer last came (or a poke was sent): the Drive is asked only when it has been quiet a while.
        var heardAt: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    public init() {}

    /// The latest date the Drive gave, if it gave any.
    public var latest: Date? { state.withLock { $0.latest } }

    /// Notes the date of an answer (answers arrive out of order: the latest is kept).
    func heard(_ response: HTTPResponse) {
        guard let text = response.header("date"), let date = HTTPDate.parse(text) else { return }
        state.withLock { state in
            if state.latest.map({ date > $0 }) ?? true { state.latest = date }
            state.heardAt = .now
        }
    }

    /// Waits until the Drive has given a date in a second after `second`'s. Answers to other transfers move the clock;
    /// when none came for a quarter of a second, one waiter asks the Drive (`poke`, a cheap request whose answer this
    /// clock hears). False when the Drive gave no later date within `timeout` (it sends no `Date`, or is stuck).
    func waitPast(_ second: Date, timeout: Duration = .seconds(5), poke: () async -> Void) async -> Bool {
        let start = ContinuousClock.now
        let quiet = Duration.milliseconds(250)
        while true {
            let (past, mustPoke) = state.withLock { state -> (Bool, Bool) in
                if let latest = state.latest, latest >= second.addingTimeInterval(1) { return (true, false) }
                guard state.heardAt.map({ $0.duration(to: .now) >= quiet }) ?? true else { return (false, false) }
                state.heardAt = .now  // this waiter asks; the others wait for its answer
                return (false, true)
            }
            if past { return true }
            if start.duration(to: .now) > timeout { return false }
            if mustPoke {
                await poke()
            } else {
                do { try await Task.sleep(for: .milliseconds(20)) } catch { return false }
            }
        }
    }
}
