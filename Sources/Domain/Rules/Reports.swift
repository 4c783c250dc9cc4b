import Foundation

/// The mission report ("rapport de mission") the expert delivers at the end of a mission.
public struct MissionReport: Sendable, Hashable, Codable {
    public var actions: String
    public var deliverables: String
    /// Days actually spent, in hundredths.
    public var daysSpentHundredths: Int
    public var results: String
    public var recommendations: String

    public init(actions: String, deliverables: String, daysSpentHundredths: Int, results: String, recommendations: String) {
        self.actions = actions
        self.deliverables = deliverables
        self.daysSpentHundredths = daysSpentHundredths
        self.results = results
        self.recommendations = recommendations
    }

    public func errors(at prefix: String = "") -> [FieldError] {
        var errors: [FieldError] = []
        for (name, text) in [("actions", actions), ("deliverables", deliverables), ("results", results)]
        where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors.append(FieldError("\(prefix)/\(name)", "required", "The report states its \(name)."))
        }
        for (name, text) in [
            ("actions", actions), ("deliverables", deliverables), ("results", results), ("recommendations", recommendations),
        ]
        where text.count > 20_000 {
            errors.append(FieldError("\(prefix)/\(name)", "too_long", "At most 20 000 characters."))
        }
        if !(1...100_000).contains(daysSpentHundredths) {
            errors.append(FieldError("\(prefix)/days_spent_hundredths", "out_of_range", "The days spent are positive."))
        }
        return errors
    }
}

/// What a laureate rates in its satisfaction review ("bilan de satisfaction").
public enum SatisfactionCriterion: String, Sendable, Hashable, Codable, CaseIterable {
    case expertise, listening, deliverables, deadlines, usefulness
}

/// A laureate's satisfaction review of a mission: every criterion rated 1 to 5.
public struct SatisfactionReview: Sendable, Hashable, Codable {
    public var ratings: [SatisfactionCriterion: Int]
    public var wouldRecommend: Bool
    public var comments: String

    public init(ratings: [SatisfactionCriterion: Int], wouldRecommend: Bool, comments: String) {
        self.ratings = ratings
        self.wouldRecommend = wouldRecommend
        self.comments = comments
    }

    /// The mean rating, in hundredths (4.25 is 425).
    public var averageHundredths: Int {
        ratings.isEmpty ? 0 : Money.roundedDivision(Money.saturatingProduct(Money.saturatingSum(ratings.values), 100), by: ratings.count)
    }

    public func errors(at prefix: String = "") -> [FieldError] {
        var errors: [FieldError] = []
        for criterion in SatisfactionCriterion.allCases {
            guard let rating = ratings[criterion] else {
                errors.append(FieldError("\(prefix)/ratings/\(criterion.rawValue)", "required", "Rate \(criterion.rawValue) from 1 to 5."))
                continue
            }
            if !(1...5).contains(rating) {
                errors.append(FieldError("\(prefix)/ratings/\(criterion.rawValue)", "out_of_range", "A rating is 1 to 5."))
            }
        }
        if comments.count > 10_000 {
            errors.append(FieldError("\(prefix)/comments", "too_long", "At most 10 000 characters."))
        }
        return errors
    }
}
