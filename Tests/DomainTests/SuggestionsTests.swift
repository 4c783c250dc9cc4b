import Domain
import Testing

/// Expert suggestions for a laureate, and pools for the team: pure rules, read as tables.
@Suite("Suggestions")
struct SuggestionsTests {
    /// A card covering `subthemes` where `coverage` says, with `productive` prior missions in productive tiers-lieux.
    static func card(_ subthemes: [String], _ coverage: Coverage, productive: Int = 0) -> ExpertCardContent {
        var card = completeCard()
        card.subthemeCodes = subthemes
        card.coverage = coverage
        card.experiences =
            (0..<productive).map { PriorExperience(tiersLieu: "Atelier \($0)", description: "Mission", productive: true) }
            + [PriorExperience(tiersLieu: "Café associatif", description: "Animation", productive: false)]
        return card
    }

    // A laureate in the Loire (42, région 84) needing 4.2 (high), 6.1 (medium), 9.3 (low).
    static let needs = [
        Need(subthemeCode: "4.2", priority: .high, description: "Modèle économique"),
        Need(subthemeCode: "6.1", priority: .medium, description: "Équipements"),
        Need(subthemeCode: "9.3", priority: .low, description: "Communication"),
    ]

    @Test(arguments: [
        // id, subthemes, coverage, productive experiences → score
        ("dept-high", ["4.2"], Coverage(departmentCodes: ["42"]), 0, 30 + 15),
        ("region-high", ["4.2"], Coverage(regionCodes: ["84"]), 0, 30 + 10),
        // Another département of the same région: in the région, as the directory's région filter counts it.
        ("other-department-of-the-region-high", ["4.2"], Coverage(departmentCodes: ["69"]), 0, 30 + 10),
        ("national-high", ["4.2"], Coverage(national: true), 0, 30 + 6),
        ("remote-high", ["4.2"], Coverage(remote: true), 0, 30 + 4),
        ("elsewhere-high", ["4.2"], Coverage(departmentCodes: ["75"]), 0, 30),
        ("dept-medium-low", ["6.1", "9.3"], Coverage(departmentCodes: ["42"], national: true), 0, 20 + 10 + 15),
        ("region-high-5-productive", ["4.2", "1.1"], Coverage(regionCodes: ["84"], remote: true), 5, 30 + 10 + 9),
    ])
    func eachExpertScoresItsNeedsItsClosestTerritoryAndItsProductiveExperience(
        _ id: String, _ subthemes: [String], _ coverage: Coverage, _ productive: Int, _ score: Int
    ) throws {
        let suggestions = Suggestions.experts(
            for: Self.needs, laureateDepartment: "42", candidates: [(id, Self.card(subthemes, coverage, productive: productive))])
        let suggestion = try #require(suggestions.first)
        #expect(suggestion.score == score)
        #expect(suggestion.reasons.reduce(0) { $0 + $1.points } == score)
        // One territory reason at most: the closest.
        #expect(suggestion.reasons.filter { [.sameDepartment, .sameRegion, .national, .remote].contains($0.code) }.count <= 1)
    }

    @Test func theRankingPutsNeedsFirstThenTerritoryThenExperienceAndSaysWhy() {
        let candidates: [(id: String, card: ExpertCardContent)] = [
            ("a-low-next-door", Self.card(["9.3"], Coverage(departmentCodes: ["42"]), productive: 3)),
            ("b-high-far", Self.card(["4.2"], Coverage(departmentCodes: ["13"]))),
            ("c-high-region", Self.card(["4.2"], Coverage(regionCodes: ["84"]))),
            ("d-nothing-needed", Self.card(["1.1", "2.3"], Coverage(departmentCodes: ["42"]), productive: 3)),
            ("e-high-region", Self.card(["4.2"], Coverage(regionCodes: ["84"]))),
            ("f-high-medium-remote", Self.card(["6.1", "4.2"], Coverage(remote: true))),
        ]
        let ranked = Suggestions.experts(for: Self.needs, laureateDepartment: "42", candidates: candidates)
        #expect(ranked.map(\.expertID) == ["f-high-medium-remote", "c-high-region", "e-high-region", "a-low-next-door", "b-high-far"])
        #expect(ranked.map(\.score) == [54, 40, 40, 34, 30])
        let first = ranked[0].reasons
        #expect(first.map(\.code) == [.coversNeed, .coversNeed, .remote])
        #expect(first.first?.subthemeCode == "4.2" && first.first?.priority == .high)
        #expect(ranked[3].reasons.last == SuggestionReason(code: .productiveExperience, points: 9, count: 3))
    }

    @Test func aNeedNamedTwiceCountsOnceAtItsHighestPriorityAndNoNoteSuggestsNobody() {
        let twice = [
            Need(subthemeCode: "4.2", priority: .low, description: ""), Need(subthemeCode: "4.2", priority: .high, description: ""),
        ]
        let ranked = Suggestions.experts(
            for: twice, laureateDepartment: "42", candidates: [("x", Self.card(["4.2"], Coverage(departmentCodes: ["99"])))])
        #expect(ranked.first?.score == 30)
        #expect(Suggestions.experts(for: [], laureateDepartment: "42", candidates: [("x", Self.card(["4.2"], Coverage()))]).isEmpty)
        // An unknown département has no région: only the département itself, national or remote can match.
        let unknown = Suggestions.experts(
            for: twice, laureateDepartment: "00", candidates: [("x", Self.card(["4.2"], Coverage(regionCodes: ["84"])))])
        #expect(unknown.first?.score == 30)
    }

    @Test func laureatesOfOneRegionSharingANeedArePoolCandidates() {
        func note(_ pairs: [(String, NeedPriority)]) -> [Need] { pairs.map { Need(subthemeCode: $0.0, priority: $0.1, description: "") } }
        let laureates: [(id: String, departmentCode: String, needs: [Need])] = [
            ("L1", "42", note([("4.2", .high), ("6.1", .low)])),  // Loire, Auvergne-Rhône-Alpes (84)
            ("L2", "69", note([("4.2", .medium)])),  // Rhône, 84
            ("L3", "63", note([("4.2", .high), ("6.1", .medium)])),  // Puy-de-Dôme, 84
            ("L4", "13", note([("4.2", .high)])),  // Bouches-du-Rhône, 93: alone in its région
            ("L5", "83", note([("9.3", .low)])),  // Var, 93
            ("L6", "06", note([("9.3", .low), ("9.3", .high)])),  // Alpes-Maritimes, 93; one need named twice
            ("L7", "00", note([("4.2", .high)])),  // unknown département: left out
        ]
        let pools = Suggestions.pools(laureates)
        #expect(
            pools == [
                PoolCandidate(regionCode: "84", subthemeCode: "4.2", laureateIDs: ["L1", "L2", "L3"], highPriority: 2),
                // Two laureates each: the group where one ranks the need high comes first.
                PoolCandidate(regionCode: "93", subthemeCode: "9.3", laureateIDs: ["L5", "L6"], highPriority: 1),
                PoolCandidate(regionCode: "84", subthemeCode: "6.1", laureateIDs: ["L1", "L3"], highPriority: 0),
            ])
        #expect(Suggestions.pools([]).isEmpty)
    }

    @Test func poolsOfEqualWeightFollowTheTaxonomyOrderNotTheTextOrder() {
        let needs = [
            Need(subthemeCode: "12.3", priority: .low, description: ""), Need(subthemeCode: "3.1", priority: .low, description: ""),
        ]
        let pools = Suggestions.pools([("A", "42", needs), ("B", "69", needs)])
        #expect(pools.map(\.subthemeCode) == ["3.1", "12.3"])
    }
}
