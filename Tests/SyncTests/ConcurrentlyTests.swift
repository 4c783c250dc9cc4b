import Foundation
import Synchronization
import Testing

@testable import Sync

/// `concurrently` runs the engine's listings and transfers: outputs in the items' order whatever order the tasks end
/// in, a thrown error comes out, and no output is ever dropped (a lost result once vanished through `compactMap`).
@Suite("Bounded parallel work")
struct ConcurrentlyTests {
    struct Failure: Error, Equatable { let index: Int }

    @Test(arguments: [1, 4, 16])
    func outputsComeBackInTheItemsOrderEvenWhenTasksEndInAnotherOrder(_ limit: Int) async throws {
        let items = Array(0..<200)
        // Tuple-shaped outputs, half known before the suspension and half after: the shape -O once miscompiled.
        let outputs = try await concurrently(items, limit: limit) { item -> (Int, String) in
            try await Task.sleep(for: .microseconds((200 - item) * 20))
            return (item, "fichier-\(item)")
        }
        #expect(outputs.count == items.count)
        #expect(outputs.map(\.0) == items && outputs.map(\.1) == items.map { "fichier-\($0)" })
    }

    @Test func anErrorFromOneItemComesOut() async throws {
        await #expect(throws: Failure(index: 57)) {
            _ = try await concurrently(Array(0..<100), limit: 4) { item -> (Int, Int) in
                try await Task.sleep(for: .microseconds(50))
                if item == 57 { throw Failure(index: 57) }
                return (item, item * 2)
            }
        }
    }

    @Test func aMissingOutputIsAnErrorNotAShorterList() throws {
        let slots = Slots<Int>(count: 3)
        slots.store(1, at: 0)
        slots.store(3, at: 2)
        #expect(throws: SyncError.self) { try slots.outputs() }
        slots.store(2, at: 1)
        #expect(try slots.outputs() == [1, 2, 3])
    }
}

/// The lanes of a run: at most `count` files at work, a waiting file lends its lane; and the Drive's clock, which says
/// when the second of an upload is over.
@Suite("Lanes and the Drive's clock")
struct LanesAndClockTests {
    final class Gauge: Sendable {
        private let state = Mutex<(now: Int, most: Int)>((0, 0))
        func enter() {
            state.withLock {
                $0.now += 1; $0.most = max($0.most, $0.now)
            }
        }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
    }

    @Test func atMostCountFilesWorkAtOnceAndAWaitingFileLendsItsLane() async throws {
        let lanes = Lanes(3)
        let working = Gauge()
        let waiting = Gauge()
        let outputs = try await concurrently(Array(0..<60), limit: 48) { item in
            await lanes.holding {
                working.enter()
                try? await Task.sleep(for: .milliseconds(2))
                working.leave()
                // Every file waits without its lane: many wait at once while three at most work.
                await lanes.lending {
                    waiting.enter()
                    try? await Task.sleep(for: .milliseconds(200))
                    waiting.leave()
                }
                working.enter()
                working.leave()
                return item
            }
        }
        #expect(outputs == Array(0..<60))
        #expect(working.most <= 3 && working.most >= 2)
        #expect(waiting.most > 3, "\(waiting.most) files waited at once")
    }

    static func answer(dated text: String) -> HTTPResponse {
        HTTPResponse(status: 207, headers: [("date", text)], body: Data(), bodyBytes: 0)
    }

    @Test func theClockKeepsTheLatestDateAndWaitsForALaterSecond() async throws {
        let clock = DriveClock()
        clock.heard(Self.answer(dated: "Sun, 29 Nov 2026 09:00:01 GMT"))
        clock.heard(Self.answer(dated: "Sun, 29 Nov 2026 09:00:00 GMT"))  // answers come out of order
        let second = try #require(clock.latest)
        #expect(second == HTTPDate.parse("Sun, 29 Nov 2026 09:00:01 GMT"))
        // Nothing else comes: the waiter asks the Drive, whose next answer is a second later.
        let pokes = Mutex(0)
        let past = await clock.waitPast(second, timeout: .seconds(60)) {
            let count = pokes.withLock {
                $0 += 1; return $0
            }
            clock.heard(Self.answer(dated: count < 3 ? "Sun, 29 Nov 2026 09:00:01 GMT" : "Sun, 29 Nov 2026 09:00:02 GMT"))
        }
        #expect(past && pokes.withLock { $0 } == 3)
        // A Drive that sends no later date: the wait ends, false, and the file is left to be read again.
        let silent = DriveClock()
        silent.heard(Self.answer(dated: "Sun, 29 Nov 2026 09:00:01 GMT"))
        #expect(await silent.waitPast(second, timeout: .milliseconds(600)) {} == false)
        #expect(await silent.waitPast(second.addingTimeInterval(-1)) {} == true)
    }
}
