import Domain
import Foundation
import GRDB

/// A published expert suggested for a laureate: what the directory shows of it, and why it ranks where it does.
public struct SuggestedExpert: Sendable {
    public let expert: PublicExpert
    public let suggestion: ExpertSuggestion
}

/// A candidate pool with the laureates it gathers, and the priority each gives the shared need.
public struct PoolCandidateView: Sendable {
    public let candidate: PoolCandidate
    public let laureates: [(laureate: Laureate, priority: NeedPriority)]
}

extension AppDatabase {
    /// The needs of each laureate's latest framing note.
    static func currentNeeds(_ db: SQLConnection, laureateID: String? = nil) throws -> [String: (version: Int, needs: [Need])] {
        let latest = """
            SELECT laureate_id, version, needs FROM framing_note f
            WHERE version = (SELECT MAX(version) FROM framing_note g WHERE g.laureate_id = f.laureate_id)
            """
        let rows =
            try laureateID.map { try Row.fetchAll(db, sql: latest + " AND laureate_id = ?", arguments: [$0]) }
            ?? Row.fetchAll(db, sql: latest)
        var current: [String: (version: Int, needs: [Need])] = [:]
        for row in rows {
            current[row["laureate_id"]] = (row["version"], try JSONDecoder().decode([Need].self, from: Data((row["needs"] as String).utf8)))
        }
        return current
    }

    /// The published experts answering the laureate's current framing note, best first, with the version they answer
    /// (nil, and no suggestion, before its first note). Experts in conflict with the laureate are left out.
    public func suggestedExperts(laureateID: String, for account: Account) throws -> (noteVersion: Int?, experts: [SuggestedExpert]) {
        guard account.role == .admin || account.laureateID == laureateID else {
            throw account.role == .sync ? StorageError.forbidden : StorageError.notFound
        }
        let index = try directoryIndex()
        let (laureate, note, conflicted) = try engine.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM laureate WHERE id = ?", arguments: [laureateID]) else {
                throw StorageError.notFound
            }
            let conflicted = Set(
                try String.fetchAll(db, sql: "SELECT expert_id FROM conflict WHERE laureate_id = ?", arguments: [laureateID]))
            return (try Self.laureate(from: row), try Self.currentNeeds(db, laureateID: laureateID)[laureateID], conflicted)
        }
        guard let note else { return (nil, []) }
        let published = index.experts.filter { !conflicted.contains($0.id) }
        let byID = Dictionary(published.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let ranked = Suggestions.experts(
            for: note.needs, laureateDepartment: laureate.departmentCode, candidates: published.map { ($0.id, $0) })
        return (
            note.version,
            ranked.compactMap { suggestion in byID[suggestion.expertID].map { SuggestedExpert(expert: $0, suggestion: suggestion) } }
        )
    }

    /// For the programme team: laureates of one région sharing a need in their current framing notes.
    public func poolCandidates(regionCode: String? = nil, for account: Account) throws -> [PoolCandidateView] {
        guard account.role == .admin else { throw StorageError.forbidden }
        let (laureates, needs) = try engine.read { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM laureate").map(Self.laureate), try Self.currentNeeds(db))
        }
        let byID = Dictionary(laureates.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let candidates = Suggestions.pools(
            laureates.compactMap { laureate in needs[laureate.id].map { (laureate.id, laureate.departmentCode, $0.needs) } })
        return candidates.filter { regionCode == nil || $0.regionCode == regionCode }.map { candidate in
            PoolCandidateView(
                candidate: candidate,
                laureates: candidate.laureateIDs.compactMap { id in
                    guard let laureate = byID[id] else { return nil }
                    let priority = Suggestions.priority(of: candidate.subthemeCode, in: needs[id]?.needs ?? []) ?? .low
                    return (laureate, priority)
                })
        }
    }
}
