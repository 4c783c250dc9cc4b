import Domain
import Foundation
import Storage

extension APIHandler {
    func listSuggestedExperts(_ input: Operations.ListSuggestedExperts.Input) async throws -> Operations.ListSuggestedExperts.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let found = try await storage { try database.suggestedExperts(laureateID: input.path.laureateId, for: account) }
        // Best first: the key inverts score and need points (bounded by the taxonomy) so that text order is rank order.
        let page = try PageCursor.page(found.experts, limit: limit, cursor: input.query.cursor) {
            [PageCursor.descendingKey($0.suggestion.score), PageCursor.descendingKey($0.suggestion.needPoints), $0.expert.id]
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        framingNoteVersion: found.noteVersion,
                        items: page.items.map {
                            .init(
                                expert: .init($0.expert), score: $0.suggestion.score,
                                reasons: $0.suggestion.reasons.map(Components.Schemas.SuggestionReason.init))
                        }, nextCursor: page.next, hasMore: page.more))))
    }

    func listPoolCandidates(_ input: Operations.ListPoolCandidates.Input) async throws -> Operations.ListPoolCandidates.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        if let region = input.query.region, Territories.region(region) == nil {
            throw APIProblem.badParameter("region", "unknown_region", "No région has code \(region).")
        }
        let pools = try await storage { try database.poolCandidates(regionCode: input.query.region, for: account) }
        let page = try PageCursor.page(pools, limit: limit, cursor: input.query.cursor) {
            [
                PageCursor.descendingKey($0.candidate.laureateIDs.count), PageCursor.descendingKey($0.candidate.highPriority),
                $0.candidate.regionCode,
                PageCursor.ascendingKey(Suggestions.subthemeRank($0.candidate.subthemeCode)), $0.candidate.subthemeCode,
            ]
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map { pool in
                            .init(
                                region: pool.candidate.regionCode, subtheme: pool.candidate.subthemeCode,
                                highPriority: pool.candidate.highPriority,
                                laureates: pool.laureates.map {
                                    .init(
                                        id: $0.laureate.id, name: $0.laureate.name, department: $0.laureate.departmentCode,
                                        priority: .init($0.priority))
                                })
                        }, nextCursor: page.next, hasMore: page.more))))
    }
}

extension Components.Schemas.NeedPriority {
    init(_ priority: NeedPriority) {
        switch priority {
        case .high: self = .high
        case .medium: self = .medium
        case .low: self = .low
        }
    }
}

extension Components.Schemas.SuggestionReason {
    init(_ reason: Domain.SuggestionReason) {
        self.init(
            code: .init(rawValue: reason.code.rawValue) ?? .coversNeed, points: reason.points, subtheme: reason.subthemeCode,
            priority: reason.priority.map(Components.Schemas.NeedPriority.init), count: reason.count)
    }
}
