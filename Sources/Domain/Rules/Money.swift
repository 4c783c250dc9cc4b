/// Money is integer euro cents everywhere; this is where cents are rounded and shared out.
public enum Money {
    /// `numerator / denominator` rounded to the nearest integer, halves away from zero ("arrondi commercial").
    public static func roundedDivision(_ numerator: Int, by denominator: Int) -> Int {
        precondition(denominator > 0)
        let magnitude = (abs(numerator) * 2 + denominator) / (2 * denominator)
        return numerator < 0 ? -magnitude : magnitude
    }

    /// Splits `total` cents in proportion to `weights` so that the parts sum to `total` exactly
    /// (largest remainder: leftover cents go to the largest fractional parts, ties to the earlier part).
    public static func split(_ total: Int, weights: [Int]) -> [Int] {
        precondition(total >= 0 && !weights.isEmpty && weights.allSatisfy { $0 >= 0 })
        let weightSum = weights.reduce(0, +)
        guard weightSum > 0 else { return split(total, weights: weights.map { _ in 1 }) }
        var parts = weights.map { total * $0 / weightSum }
        let remainders = weights.map { total * $0 % weightSum }
        let leftover = total - parts.reduce(0, +)
        let order = remainders.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for index in order.prefix(leftover) { parts[index] += 1 }
        return parts
    }

    /// "12 345,67 €", the way French documents print amounts.
    public static func formatted(_ cents: Int) -> String {
        let sign = cents < 0 ? "-" : ""
        let euros = abs(cents) / 100
        let rest = abs(cents) % 100
        var digits = String(euros)
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(digits, at: 0)
        return "\(sign)\(groups.joined(separator: "\u{202F}")),\(rest < 10 ? "0" : "")\(rest)\u{00A0}€"
    }
}

/// A laureate's support envelope: its ceiling and what its accepted missions already commit.
public struct BudgetLedger: Sendable, Hashable {
    public let ceilingCents: Int
    public let committedCents: Int

    public init(ceilingCents: Int, committedCents: Int) {
        self.ceilingCents = ceilingCents
        self.committedCents = committedCents
    }

    public var remainingCents: Int { ceilingCents - committedCents }

    /// Whether committing `cents` more keeps the laureate within its ceiling (reaching it exactly is allowed).
    public func allows(_ cents: Int) -> Bool { cents >= 0 && cents <= remainingCents }

    /// The amount committed by a laureate: its share of each mission whose state commits budget.
    public static func committed(_ commitments: [(state: MissionState, shareCents: Int)]) -> Int {
        commitments.filter { $0.state.commitsBudget }.map(\.shareCents).reduce(0, +)
    }
}
