import Domain
import Synchronization

/// The directory index in memory, kept in step with the database: every write to an expert card invalidates it
/// (on this instance after its commit; on the others, over PostgreSQL, when the commit's notification reaches them),
/// and the next read rebuilds it from committed data. Reads between writes cost no database access.
final class DirectoryCache: Sendable {
    private struct State {
        var generation = 0
        var builtFor = -1
        var index: DirectoryIndex?
        /// False while other instances' writes may go unheard (the listening connection is down): every read rebuilds.
        var heard = true
    }

    private let state = Mutex(State())

    /// Called after a transaction that changed expert cards has committed, here or on another instance.
    func invalidate() { state.withLock { $0.generation += 1 } }

    /// Whether other instances' writes are heard; a change either way drops what was built.
    func hearing(_ heard: Bool) {
        state.withLock {
            $0.heard = heard
            $0.generation += 1
        }
    }

    /// The index if no write happened since it was built.
    func cached() -> DirectoryIndex? { state.withLock { $0.heard && $0.builtFor == $0.generation ? $0.index : nil } }

    /// The current index, rebuilt with `build` when a write happened since it was built.
    func index(build: () throws -> DirectoryIndex) throws -> DirectoryIndex {
        let (generation, cached) = state.withLock { ($0.generation, $0.heard && $0.builtFor == $0.generation ? $0.index : nil) }
        if let cached { return cached }
        let index = try build()
        state.withLock {
            if $0.heard && $0.builtFor < generation {
                $0.builtFor = generation
                $0.index = index
            }
        }
        return index
    }
}
