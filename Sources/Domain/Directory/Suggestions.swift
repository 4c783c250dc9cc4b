/// One part of why an expert is suggested to a laureate, with its points: a front end shows these as the reasons.
public struct SuggestionReason: Sendable, Hashable, Codable {
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The expert works on a subtheme the framing note names (`subthemeCode`, `priority`).
        case coversNeed = "covers_need"
        /// Where the expert works, from the closest: the laureate's département, its région, the whole country, remotely.
        case sameDepartment = "same_department"
        case sameRegion = "same_region"
        case national
        case remote
        /// Prior missions with productive tiers-lieux (`count`).
        case productiveExperience = "productive_experience"
    }

    public var code: Code
    public var points: Int
    public var subthemeCode: String?
    public var priority: NeedPriority?
    public var count: Int?

    public init(code: Code, points: Int, subthemeCode: String? = nil, priority: NeedPriority? = nil, count: Int? = nil) {
        self.code = code
        self.points = points
        self.subthemeCode = subthemeCode
        self.priority = priority
        self.count = count
    }
}

/// A published expert suggested for a laureate's needs: its score and the reasons that make it.
public struct ExpertSuggestion: Sendable, Hashable {
    public var expertID: String
    public var score: Int
    public var reasons: [SuggestionReason]

    /// The part of the score that comes from needs covered: the first tie-breaker.
    public var needPoints: Int { reasons.filter { $0.code == .coversNeed }.reduce(0) { $0 + $1.points } }
}

/// Laureates of one région sharing a need: candidates for a pooled mission.
public struct PoolCandidate: Sendable, Hashable {
    public var regionCode: String
    public var subthemeCode: String
    /// In code order.
    public var laureateIDs: [String]
    /// How many of them rank the need high.
    public var highPriority: Int

    public init(regionCode: String, subthemeCode: String, laureateIDs: [String], highPriority: Int) {
        self.regionCode = regionCode
        self.subthemeCode = subthemeCode
        self.laureateIDs = laureateIDs
        self.highPriority = highPriority
    }
}

/// What a suggestion reads of an expert: a card under review, or its published projection.
public protocol SuggestionCandidate {
    var subthemeCodes: [String] { get }
    var coverage: Coverage { get }
    var experiences: [PriorExperience] { get }
}

extension ExpertCardContent: SuggestionCandidate {}
extension PublicExpert: SuggestionCandidate {}

/// Suggestions made from what the programme already knows: framing notes, published cards, territories.
public enum Suggestions {
    /// Points for a need covered, by its priority: covering one high need outweighs any territory or experience.
    public static let needPoints: [NeedPriority: Int] = [.high: 30, .medium: 20, .low: 10]
    /// Points for where the expert works, the closest tier only.
    public static let territoryPoints: [SuggestionReason.Code: Int] = [.sameDepartment: 15, .sameRegion: 10, .national: 6, .remote: 4]
    /// Points per prior mission with a productive tiers-lieu, and their cap.
    public static let experiencePoints = 3
    public static let experienceCap = 3

    /// The experts that cover at least one need of the note, best first (score, then needs covered, then id), each with
    /// its reasons. A need named twice counts once, at its highest priority.
    public static func experts<Card: SuggestionCandidate>(
        for needs: [Need], laureateDepartment: String, candidates: [(id: String, card: Card)]
    ) -> [ExpertSuggestion] {
        var wanted: [String: NeedPriority] = [:]
        for need in needs { wanted[need.subthemeCode] = priority(of: need.subthemeCode, in: needs) }
        let region = Territories.department(laureateDepartment)?.regionCode
        let ranked = candidates.compactMap { candidate -> (suggestion: ExpertSuggestion, needs: Int)? in
            var reasons: [SuggestionReason] = []
            for code in Set(candidate.card.subthemeCodes).sorted() {
                guard let priority = wanted[code] else { continue }
                reasons.append(.init(code: .coversNeed, points: points(priority), subthemeCode: code, priority: priority))
            }
            guard !reasons.isEmpty else { return nil }
            let needPoints = reasons.reduce(0) { $0 + $1.points }
            reasons.sort { ($0.points, $1.subthemeCode ?? "") > ($1.points, $0.subthemeCode ?? "") }
            let coverage = candidate.card.coverage
            let tier: SuggestionReason.Code? =
                if coverage.departmentCodes.contains(laureateDepartment) {
                    .sameDepartment
                } else if let region,
                    coverage.regionCodes.contains(region)
                        || coverage.departmentCodes.contains(where: { Territories.department($0)?.regionCode == region })
                {
                    .sameRegion
                } else if coverage.national {
                    .national
                } else if coverage.remote {
                    .remote
                } else {
                    nil
                }
            if let tier { reasons.append(.init(code: tier, points: territoryPoints[tier] ?? 0)) }
            let productive = min(candidate.card.experiences.filter(\.productive).count, experienceCap)
            if productive > 0 {
                reasons.append(.init(code: .productiveExperience, points: productive * experiencePoints, count: productive))
            }
            let score = reasons.reduce(0) { $0 + $1.points }
            return (ExpertSuggestion(expertID: candidate.id, score: score, reasons: reasons), needPoints)
        }
        return ranked.sorted {
            ($0.suggestion.score, $0.needs, $1.suggestion.expertID) > ($1.suggestion.score, $1.needs, $0.suggestion.expertID)
        }.map(\.suggestion)
    }

    /// For the programme team: every subtheme needed by two laureates or more of one région, the largest groups first
    /// (then those with more high priorities, then by région, then in taxonomy order). A laureate whose département is unknown
    /// is left out.
    public static func pools(_ laureates: [(id: String, departmentCode: String, needs: [Need])]) -> [PoolCandidate] {
        var groups: [String: [String: (ids: Set<String>, high: Set<String>)]] = [:]
        for laureate in laureates {
            guard let region = Territories.department(laureate.departmentCode)?.regionCode else { continue }
            for need in laureate.needs {
                var group = groups[region, default: [:]][need.subthemeCode, default: ([], [])]
                group.ids.insert(laureate.id)
                if need.priority == .high { group.high.insert(laureate.id) }
                groups[region, default: [:]][need.subthemeCode] = group
            }
        }
        var candidates: [PoolCandidate] = []
        for (region, bySubtheme) in groups {
            for (subtheme, group) in bySubtheme where group.ids.count >= 2 {
                candidates.append(
                    PoolCandidate(
                        regionCode: region, subthemeCode: subtheme, laureateIDs: group.ids.sorted(), highPriority: group.high.count))
            }
        }
        return candidates.sorted {
            ($0.laureateIDs.count, $0.highPriority, $1.regionCode, subthemeRank($1.subthemeCode))
                > ($1.laureateIDs.count, $1.highPriority, $0.regionCode, subthemeRank($0.subthemeCode))
        }
    }

    /// Where a subtheme stands in the taxonomy ("3.1" before "12.3"); unknown codes last.
    public static func subthemeRank(_ code: String) -> Int { subthemeRanks[code] ?? Int.max }

    static let subthemeRanks: [String: Int] = Dictionary(
        Taxonomy.themes.flatMap(\.subthemes).enumerated().map { ($1.code, $0) }, uniquingKeysWith: { first, _ in first })

    /// The highest priority `needs` give `subthemeCode`; nil when they do not name it.
    public static func priority(of subthemeCode: String, in needs: [Need]) -> NeedPriority? {
        needs.filter { $0.subthemeCode == subthemeCode }.map(\.priority).max { points($0) < points($1) }
    }

    static func points(_ priority: NeedPriority) -> Int { needPoints[priority] ?? 0 }
}
