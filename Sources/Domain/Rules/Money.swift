/// Money is integer euro cents everywhere; this is where cents are rounded and shared out.
public enum Money {
    /// `numerator / denominator` rounded to the nearest integer, halves away from zero ("arrondi commercial").
    /// Never traps: the quotient and remainder are taken first, so no intermediate value leaves `Int`'s range.
    public static func roundedDivision(_ numerator: Int, by denominator: Int) -> Int {
        precondition(denominator > 0)
        let quotient = numerator / denominator
        let remainder = (numerator % denominator).magnitude
        // remainder < denominator, so comparing remainder with what is left of the denominator cannot overflow.
        guard remainder >= denominator.magnitude - remainder else { return quotient }
        return numerator < 0 ? quotient - 1 : quotient + 1
    }

    /// `a × b`, or nil when it leaves `Int`'s range.
    public static func product(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }

    /// The sum of `values`, or nil when it leaves `Int`'s range.
    public static func sum(_ values: some Sequence<Int>) -> Int? {
        var total = 0
        for value in values {
            let (next, overflow) = total.addingReportingOverflow(value)
            if overflow { return nil }
            total = next
        }
        return total
    }

    /// `a × b` held at `Int.max` / `Int.min` instead of trapping: for amounts shown before they are validated.
    public static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        product(a, b) ?? ((a < 0) == (b < 0) ? .max : .min)
    }

    /// The sum of `values` held at `Int.max` / `Int.min` instead of trapping.
    public static func saturatingSum(_ values: some Sequence<Int>) -> Int {
        var total = 0
        for value in values {
            let (next, overflow) = total.addingReportingOverflow(value)
            total = overflow ? (value < 0 ? .min : .max) : next
        }
        return total
    }

    /// `a − b` held at `Int.max` / `Int.min` instead of trapping.
    public static func saturatingDifference(_ a: Int, _ b: Int) -> Int {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? .max : .min) : difference
    }

    /// Splits `total` cents in proportion to `weights` so that the parts sum to `total` exactly
    /// (largest remainder: leftover cents go to the largest fractional parts, ties to the earlier part).
    /// Products are taken at double width, so no total or weight can overflow.
    public static func split(_ total: Int, weights: [Int]) -> [Int] {
        precondition(total >= 0 && !weights.isEmpty && weights.allSatisfy { $0 >= 0 })
        guard let weightSum = sum(weights), weightSum > 0 else {
            return split(total, weights: weights.map { _ in 1 })
        }
        var parts: [Int] = []
        var remainders: [Int] = []
        for weight in weights {
            // total × weight / weightSum < total + 1 since weight ≤ weightSum: the quotient fits.
            let (quotient, remainder) = weightSum.dividingFullWidth(total.multipliedFullWidth(by: weight))
            parts.append(quotient)
            remainders.append(remainder)
        }
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

    /// One mission's weight on a laureate's envelope: where the mission stands, the laureate's share, and whether this
    /// laureate has validated it (a pooled share validated before the others is held).
    public struct Commitment: Sendable, Hashable {
        public var state: MissionState
        public var shareCents: Int
        public var validated: Bool

        public init(state: MissionState, shareCents: Int, validated: Bool) {
            self.state = state
            self.shareCents = shareCents
            self.validated = validated
        }

        /// Counts against the ceiling because the mission is accepted (or past it).
        public var isCommitted: Bool { state.commitsBudget }
        /// Counts against the ceiling because this laureate validated its share of a proposal still waiting for others:
        /// held, so no order of acceptances can pass the ceiling; released when the proposal goes back or ends.
        public var isHeld: Bool { state == .proposed && validated }
    }

    /// What counts against the ceiling: committed amounts plus held shares (saturating: amounts come from storage).
    public static func committed(_ commitments: [Commitment]) -> Int {
        Money.saturatingSum(commitments.filter { $0.isCommitted || $0.isHeld }.map(\.shareCents))
    }

    /// Only the shares held by validated, not yet accepted, pooled proposals.
    public static func held(_ commitments: [Commitment]) -> Int {
        Money.saturatingSum(commitments.filter(\.isHeld).map(\.shareCents))
    }
}
