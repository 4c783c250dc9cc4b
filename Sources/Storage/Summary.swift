import Domain
import Foundation
import GRDB

/// The programme at a glance, for the team's reporting.
public struct ProgrammeSummary: Sendable, Hashable {
    public struct Satisfaction: Sendable, Hashable {
        public let themeCode: String
        public let reviews: Int
        /// Mean of the reviews' mean ratings, in hundredths.
        public let averageHundredths: Int
    }

    public let laureates: Int
    public let publishedExperts: Int
    public let missionsByState: [(state: MissionState, count: Int)]
    public let missionsByTheme: [(code: String, count: Int)]
    public let missionsByRegion: [(code: String, count: Int)]
    public let ceilingsCents: Int
    public let committedCents: Int
    public let spentCents: Int
    public let satisfactionByTheme: [Satisfaction]

    public static func == (lhs: ProgrammeSummary, rhs: ProgrammeSummary) -> Bool {
        lhs.laureates == rhs.laureates && lhs.committedCents == rhs.committedCents && lhs.spentCents == rhs.spentCents
            && lhs.missionsByState.elementsEqual(rhs.missionsByState, by: ==) && lhs.satisfactionByTheme == rhs.satisfactionByTheme
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(laureates)
        hasher.combine(committedCents)
    }
}

extension AppDatabase {
    /// Counts, money and satisfaction over the whole programme, read in one transaction.
    public func programmeSummary() throws -> ProgrammeSummary {
        try engine.read { db in
            let laureates = try Row.fetchAll(db, sql: "SELECT id, department_code, support_ceiling_cents FROM laureate")
            let regionOf = Dictionary(
                uniqueKeysWithValues: laureates.map {
                    ($0["id"] as String, Territories.department($0["department_code"])?.regionCode ?? "")
                })
            let ids = try String.fetchAll(db, sql: "SELECT id FROM mission ORDER BY ref")
            let missions = try Self.missionRecords(db, ids: ids).map(\.mission)
            var byState: [MissionState: Int] = [:]
            var byTheme: [String: Int] = [:]
            var byRegion: [String: Int] = [:]
            var ratings: [String: [Int]] = [:]
            var committed = 0
            var spent = 0
            for mission in missions {
                byState[mission.state, default: 0] += 1
                let themes = Set(Taxonomy.themeCodes(of: mission.subthemeCodes))
                for theme in themes { byTheme[theme, default: 0] += 1 }
                for region in Set(mission.laureateIDs.compactMap { regionOf[$0] }) { byRegion[region, default: 0] += 1 }
                let shares = Money.saturatingSum(mission.participants.map { $0.shareCents ?? 0 })
                if mission.state.commitsBudget { committed = Money.saturatingSum([committed, shares]) }
                if mission.state == .closed { spent = Money.saturatingSum([spent, shares]) }
                for review in mission.participants.compactMap(\.review) {
                    for theme in themes { ratings[theme, default: []].append(review.averageHundredths) }
                }
            }
            func ordered(_ counts: [String: Int], _ order: [String]) -> [(code: String, count: Int)] {
                order.compactMap { code in counts[code].map { (code, $0) } }
            }
            return ProgrammeSummary(
                laureates: laureates.count,
                publishedExperts: try Int.fetchOne(db, sql: "SELECT count(*) FROM expert WHERE state = 'published'") ?? 0,
                missionsByState: MissionState.allCases.compactMap { state in byState[state].map { (state, $0) } },
                missionsByTheme: ordered(byTheme, Taxonomy.themes.map(\.code)),
                missionsByRegion: ordered(byRegion, Territories.regions.map(\.code)),
                ceilingsCents: Money.saturatingSum(laureates.map { $0["support_ceiling_cents"] as Int }), committedCents: committed,
                spentCents: spent,
                satisfactionByTheme: Taxonomy.themes.compactMap { theme in
                    ratings[theme.code].map {
                        ProgrammeSummary.Satisfaction(
                            themeCode: theme.code, reviews: $0.count,
                            averageHundredths: Money.roundedDivision(Money.saturatingSum($0), by: $0.count))
                    }
                })
        }
    }
}
