import Domain
import Testing

@Suite("Budget, window and pooled missions")
struct BudgetAndWindowTests {
    /// A 10 000 € quote: 8 333,33 € before VAT at 20 % gives 1 666,67 € VAT, 10 000,00 € in all.
    static let tenThousand = proposal(lines: [QuoteLine(label: "Mission", quantityHundredths: 100, unitPriceCents: 833_333)])

    @Test func quotesRoundEachLineThenTheVATHalfUp() {
        #expect(Self.tenThousand.quote.subtotalCents == 833_333)
        #expect(Self.tenThousand.quote.vatCents == 166_667)
        #expect(Self.tenThousand.quote.totalCents == 1_000_000)
        let halfDay = QuoteLine(label: "Demi-journée", quantityHundredths: 50, unitPriceCents: 33_333)
        #expect(halfDay.totalCents == 16_667)  // 16 666,5 cents, half up
        let quote = Quote(lines: [halfDay, halfDay], vatRateBasisPoints: 550, validUntil: day("2024-01-01"))
        #expect(quote.subtotalCents == 33_334)
        #expect(quote.vatCents == 1_833)  // 1 833,37
        #expect(Money.roundedDivision(5, by: 10) == 1 && Money.roundedDivision(4, by: 10) == 0)
    }

    @Test func acceptingExactlyUpToTheCeilingIsAllowed() throws {
        let mission = try proposedMission(proposal: Self.tenThousand)
        let ctx = context(budgets: ["L1": BudgetLedger(ceilingCents: 1_500_000, committedCents: 500_000)])
        let accepted = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: ctx)
        #expect(accepted.state == .accepted)
    }

    @Test func acceptingAQuoteOneCentAboveTheCeilingIsRefusedWithTheRemainingAmount() throws {
        let mission = try proposedMission(proposal: Self.tenThousand)
        let ctx = context(budgets: ["L1": BudgetLedger(ceilingCents: 1_500_000, committedCents: 500_001)])
        #expect(throws: MissionError.budgetExceeded(laureateID: "L1", requestedCents: 1_000_000, remainingCents: 999_999)) {
            try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: ctx)
        }
    }

    @Test func theCommittedAmountCountsOnlyMissionsThatCommitBudget() {
        let commitments = MissionState.allCases.map { BudgetLedger.Commitment(state: $0, shareCents: 100, validated: false) }
        #expect(BudgetLedger.committed(commitments) == 400)  // accepted, reported, closed, terminated
        let ledger = BudgetLedger(ceilingCents: 1_000, committedCents: 400)
        #expect(ledger.remainingCents == 600 && ledger.allows(600) && !ledger.allows(601) && !ledger.allows(-1))
    }

    @Test(arguments: [("2023-02-01", true), ("2024-12-31", true), ("2023-01-31", false), ("2025-01-01", false)])
    func quotesAreAcceptedOnlyInsideTheWindowBothEndsIncluded(_ today: String, _ allowed: Bool) throws {
        let mission = try proposedMission(proposal: proposal(validUntil: "2025-06-30"))
        let result = Result { try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context(today: today)) }
        switch result {
        case .success(let accepted): #expect(allowed && accepted.state == .accepted)
        case .failure(let error):
            #expect(!allowed)
            #expect(error as? MissionError == .outsideWindow(date: day(today), window: settings.window))
        }
    }

    @Test func aMissionIsPlannedInsideTheWindow() {
        let window = settings.window
        #expect(proposal(schedule: ("2023-02-01", "2024-12-31")).diagnostic.errors(at: "", window: window).isEmpty)
        // Each error points at the date of the request that is out of the window.
        let early = proposal(schedule: ("2023-01-31", "2023-06-01")).diagnostic.errors(at: "/diagnostic", window: window)
        #expect(early.map(\.code) == ["outside_window"] && early.map(\.pointer) == ["/diagnostic/start_on"])
        let late = proposal(schedule: ("2024-06-01", "2025-01-01")).diagnostic.errors(at: "/diagnostic", window: window)
        #expect(late.map(\.code) == ["outside_window"] && late.map(\.pointer) == ["/diagnostic/end_on"])
        let both = proposal(schedule: ("2022-06-01", "2025-01-01")).diagnostic.errors(at: "/diagnostic", window: window)
        #expect(both.map(\.pointer) == ["/diagnostic/start_on", "/diagnostic/end_on"])
    }

    @Test func anExpiredQuoteCannotBeAccepted() throws {
        let mission = try proposedMission(proposal: proposal(validUntil: "2023-06-30"))
        #expect(throws: MissionError.quoteExpired(validUntil: day("2023-06-30"))) {
            try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context(today: "2023-07-01"))
        }
    }

    @Test func pooledSharesSplitEvenlySumToTheTotalToTheCent() throws {
        #expect(Money.split(1_000_000, weights: [1, 1, 1]) == [333_334, 333_333, 333_333])
        #expect(Money.split(100, weights: [1, 2]) == [33, 67])
        #expect(Money.split(1, weights: [1, 1, 1]) == [1, 0, 0])
        for total in [0, 1, 2, 99, 1_000_000, 1_234_567] {
            for weights in [[1], [1, 1], [1, 1, 1], [3, 2, 5], [0, 1], [7, 7, 7, 7]] {
                #expect(Money.split(total, weights: weights).reduce(0, +) == total)
            }
        }
        let mission = try proposedMission(laureates: ["L1", "L2", "L3"], proposal: Self.tenThousand)
        #expect(mission.participants.map(\.shareCents) == [333_334, 333_333, 333_333])
    }

    @Test func pooledSharesGivenByTheExpertMustSumToTheTotal() throws {
        #expect(
            throws: MissionError.invalid([
                FieldError("/shares", "shares_do_not_sum", "The shares add up to the quote total, 1000000 cents.")
            ])
        ) {
            try proposedMission(laureates: ["L1", "L2"], shares: ["L1": 500_000, "L2": 499_999], proposal: Self.tenThousand)
        }
        let mission = try proposedMission(laureates: ["L1", "L2"], shares: ["L1": 600_000, "L2": 400_000], proposal: Self.tenThousand)
        #expect(mission.shares == ["L1": 600_000, "L2": 400_000])
    }

    @Test func aPooledMissionIsAcceptedWhenEveryLaureateHasAcceptedItsShareAndClosedWhenEveryOneHasReviewed() throws {
        var mission = try proposedMission(laureates: ["L1", "L2", "L3"], proposal: Self.tenThousand)
        let ctx = context(budgets: ["L3": BudgetLedger(ceilingCents: 1_000_000, committedCents: 666_667)])
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: ctx)
        #expect(mission.state == .proposed)
        #expect(throws: MissionError.alreadyDone(laureateID: "L1", action: .accept)) {
            try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: ctx)
        }
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L2"), to: mission, context: ctx)
        #expect(mission.state == .proposed)
        // L3 has 333 333 cents left and its share is exactly that.
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L3"), to: mission, context: ctx)
        #expect(mission.state == .accepted)
        mission = try MissionWorkflow.apply(.report(sampleReport), by: .expert(id: "E1"), to: mission, context: ctx)
        for laureate in ["L1", "L2"] {
            mission = try MissionWorkflow.apply(.review(sampleReview()), by: .laureate(id: laureate), to: mission, context: ctx)
            #expect(mission.state == .reported)
        }
        mission = try MissionWorkflow.apply(.review(sampleReview()), by: .laureate(id: "L3"), to: mission, context: ctx)
        #expect(mission.state == .closed)
    }

    @Test func sendingAPooledProposalBackClearsEveryAcceptance() throws {
        var mission = try proposedMission(laureates: ["L1", "L2"])
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        mission = try MissionWorkflow.apply(.sendBack(comment: "Revoir la part"), by: .laureate(id: "L2"), to: mission, context: context())
        #expect(mission.state == .scoping)
        #expect(mission.participants.allSatisfy { $0.acceptedOn == nil })
    }
}
