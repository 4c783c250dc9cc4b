import Domain

/// A card with every required answer, for tests to break one answer at a time.
func completeCard() -> ExpertCardContent {
    ExpertCardContent(
        firstName: "Claire", lastName: "Martin",
        organisation: Organisation(name: "Atelier Martin Conseil", siret: "73282932000074"),
        contact: ContactDetails(email: "claire@atelier-martin.fr", phone: "06 12 34 56 78", website: "https://atelier-martin.fr"),
        summary: "Accompagne les tiers-lieux productifs sur leur modèle économique.",
        subthemeCodes: ["4.2", "4.4"],
        coverage: Coverage(regionCodes: ["84"], departmentCodes: ["2A"]),
        sectors: ["bois"],
        experiences: [PriorExperience(tiersLieu: "La Fabrique du Bois", description: "Plan de financement", productive: true)],
        declaration: NoInterestDeclaration(signatory: "Claire Martin", signedOn: CalendarDate(2023, 2, 10)!)
    )
}

let settings = ProgrammeSettings.manufacturesDeProximite

func day(_ iso: String) -> CalendarDate { CalendarDate(iso: iso)! }

func proposal(
    lines: [QuoteLine] = [QuoteLine(label: "Diagnostic", quantityHundredths: 500, unitPriceCents: 60_000)],
    vat: Int = 2000, validUntil: String = "2024-06-30",
    schedule: (String, String) = ("2023-06-01", "2023-09-30")
) -> Proposal {
    Proposal(
        diagnostic: Diagnostic(
            context: "Manufacture textile en zone rurale", needs: "Modèle économique", objectives: "Équilibre en 2025",
            method: "Ateliers", deliverables: "Plan d'affaires",
            schedule: DateInterval(start: day(schedule.0), end: day(schedule.1))!, daysHundredths: 500),
        quote: Quote(lines: lines, vatRateBasisPoints: vat, validUntil: day(validUntil)))
}

func context(
    today: String = "2023-05-15", notes: Set<String> = ["L1", "L2", "L3"], conflicts: ConflictRegistry = .init(),
    budgets: [String: BudgetLedger] = [:]
) -> MissionContext {
    let defaults = ["L1", "L2", "L3"].reduce(into: [String: BudgetLedger]()) {
        $0[$1] = BudgetLedger(ceilingCents: 2_000_000, committedCents: 0)
    }
    return MissionContext(
        settings: settings, today: day(today), laureatesWithFramingNote: notes, conflicts: conflicts,
        budgets: defaults.merging(budgets) { $1 })
}

func requestedMission(laureates: [String] = ["L1"], expert: String = "E1") -> Mission {
    try! MissionWorkflow.request(
        id: "M1", ref: MissionRef(year: 2023, sequence: 1)!, title: "Modèle économique", expertID: expert,
        laureateIDs: laureates, conflicts: .init())
}

let sampleReport = MissionReport(
    actions: "Trois ateliers", deliverables: "Plan d'affaires", daysSpentHundredths: 450, results: "Modèle validé", recommendations: "")

func sampleReview(_ rating: Int = 4) -> SatisfactionReview {
    SatisfactionReview(
        ratings: Dictionary(uniqueKeysWithValues: SatisfactionCriterion.allCases.map { ($0, rating) }), wouldRecommend: true, comments: "")
}
