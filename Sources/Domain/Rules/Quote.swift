import Foundation

/// One line of a quote: a quantity (in hundredths, so 1.5 days is 150) at a unit price in cents, before VAT.
public struct QuoteLine: Sendable, Hashable, Codable {
    public var label: String
    public var quantityHundredths: Int
    public var unitPriceCents: Int

    public init(label: String, quantityHundredths: Int, unitPriceCents: Int) {
        self.label = label
        self.quantityHundredths = quantityHundredths
        self.unitPriceCents = unitPriceCents
    }

    /// Rounding rule: each line is rounded to the cent, halves up. Saturates rather than trapping on values that were
    /// not validated yet (`Quote.errors` refuses any line past `Quote.maxTotalCents`).
    public var totalCents: Int { Money.roundedDivision(Money.saturatingProduct(quantityHundredths, unitPriceCents), by: 100) }
}

/// The quote ("devis") an expert sends with the diagnostic. Amounts are cents; the VAT rate is in basis points.
public struct Quote: Sendable, Hashable, Codable {
    public var lines: [QuoteLine]
    /// 2000 is 20 %; 0 for an expert exempt from VAT (article 293 B of the CGI).
    public var vatRateBasisPoints: Int
    public var validUntil: CalendarDate

    public init(lines: [QuoteLine], vatRateBasisPoints: Int, validUntil: CalendarDate) {
        self.lines = lines
        self.vatRateBasisPoints = vatRateBasisPoints
        self.validUntil = validUntil
    }

    /// The French VAT rates a quote may use, in basis points.
    public static let allowedVATRates: Set<Int> = [0, 210, 550, 850, 1000, 2000]
    /// Bounds on each field: 1 million euros a unit, 100 000 units, 500 lines. With them a line is at most 10¹³ cents
    /// and 500 lines 5 × 10¹⁵, far inside `Int`; the totals are checked against `maxTotalCents` before any VAT is applied.
    public static let maxUnitPriceCents = 100_000_000
    public static let maxQuantityHundredths = 10_000_000
    public static let maxLines = 500
    /// No quote of any programme goes past 10 million euros including VAT, whatever its participants' ceilings.
    public static let maxTotalCents = 1_000_000_000

    /// The sum of the rounded lines (saturating on values not validated yet).
    public var subtotalCents: Int { Money.saturatingSum(lines.map(\.totalCents)) }
    /// Rounding rule: VAT is computed once on the subtotal and rounded to the cent, halves up.
    public var vatCents: Int { Money.roundedDivision(Money.saturatingProduct(subtotalCents, vatRateBasisPoints), by: 10_000) }
    /// What the laureate commits: the total including VAT.
    public var totalCents: Int { Money.saturatingSum([subtotalCents, vatCents]) }

    /// Every problem with the quote, pointers relative to `prefix` (e.g. "/quote"). `maxTotalCents` is what the
    /// programme could pay for this mission (the sum of its participants' ceilings): a quote above it can never be
    /// accepted, so it is refused when it is sent.
    public func errors(at prefix: String, maxTotalCents: Int = Quote.maxTotalCents) -> [FieldError] {
        var errors: [FieldError] = []
        if lines.isEmpty {
            errors.append(FieldError("\(prefix)/lines", "required", "A quote has at least one line."))
        }
        if lines.count > Quote.maxLines {
            errors.append(FieldError("\(prefix)/lines", "too_many", "A quote has at most \(Quote.maxLines) lines."))
        }
        for (index, line) in lines.enumerated() {
            let at = "\(prefix)/lines/\(index)"
            if line.label.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                errors.append(FieldError("\(at)/label", "required", "Each line says what it is for."))
            }
            if !(1...Quote.maxQuantityHundredths).contains(line.quantityHundredths) {
                errors.append(
                    FieldError(
                        "\(at)/quantity_hundredths", "out_of_range",
                        "The quantity is between 0.01 and \(Quote.maxQuantityHundredths / 100), in hundredths."))
            }
            if !(0...Quote.maxUnitPriceCents).contains(line.unitPriceCents) {
                errors.append(
                    FieldError(
                        "\(at)/unit_price_cents", "out_of_range",
                        "The unit price is between 0 and \(Money.formatted(Quote.maxUnitPriceCents)) before VAT."))
            }
        }
        if !Quote.allowedVATRates.contains(vatRateBasisPoints) {
            errors.append(FieldError("\(prefix)/vat_rate_basis_points", "invalid_vat_rate", "Not a French VAT rate."))
        }
        guard errors.isEmpty else { return errors }
        // Every field is within its bounds here, so each line and their sum fit in Int (see maxUnitPriceCents).
        let cap = min(maxTotalCents, Quote.maxTotalCents)
        if let index = lines.firstIndex(where: { $0.totalCents > cap }) {
            errors.append(
                FieldError(
                    "\(prefix)/lines/\(index)/unit_price_cents", "above_payable",
                    "This line alone is more than the programme can pay for this mission (\(Money.formatted(cap)))."))
        } else if subtotalCents > cap || totalCents > cap {
            errors.append(
                FieldError(
                    "\(prefix)/lines", "above_payable",
                    "The quote totals \(Money.formatted(totalCents)), more than the programme can pay for this mission (\(Money.formatted(cap)))."
                ))
        } else if totalCents <= 0 {
            errors.append(FieldError("\(prefix)/lines", "zero_total", "A quote totals more than zero."))
        }
        return errors
    }
}

/// The diagnostic ("diagnostic préalable de mission") the expert writes before quoting.
public struct Diagnostic: Sendable, Hashable, Codable {
    public var context: String
    public var needs: String
    public var objectives: String
    public var method: String
    public var deliverables: String
    /// Planned first and last day of the mission: both inside the programme window.
    public var schedule: DateInterval
    /// Planned working days, in hundredths.
    public var daysHundredths: Int

    public init(
        context: String, needs: String, objectives: String, method: String, deliverables: String,
        schedule: DateInterval, daysHundredths: Int
    ) {
        self.context = context
        self.needs = needs
        self.objectives = objectives
        self.method = method
        self.deliverables = deliverables
        self.schedule = schedule
        self.daysHundredths = daysHundredths
    }

    public func errors(at prefix: String, window: DateInterval) -> [FieldError] {
        var errors: [FieldError] = []
        let texts: [(String, String)] = [
            ("context", context), ("needs", needs), ("objectives", objectives), ("method", method),
            ("deliverables", deliverables),
        ]
        for (name, text) in texts where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors.append(FieldError("\(prefix)/\(name)", "required", "The diagnostic states its \(name)."))
        }
        // Each date out of the window is named by its own field of the request.
        for (field, date) in [("start_on", schedule.start), ("end_on", schedule.end)] where !(window.start...window.end).contains(date) {
            errors.append(
                FieldError("\(prefix)/\(field)", "outside_window", "The mission is planned between \(window.start) and \(window.end)."))
        }
        if !(1...100_000).contains(daysHundredths) {
            errors.append(FieldError("\(prefix)/days_hundredths", "out_of_range", "The planned days are positive."))
        }
        return errors
    }
}

/// What the expert sends to the laureate and the programme team: the diagnostic and its quote.
public struct Proposal: Sendable, Hashable, Codable {
    public var diagnostic: Diagnostic
    public var quote: Quote

    public init(diagnostic: Diagnostic, quote: Quote) {
        self.diagnostic = diagnostic
        self.quote = quote
    }
}
