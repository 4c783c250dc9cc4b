import Foundation
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
