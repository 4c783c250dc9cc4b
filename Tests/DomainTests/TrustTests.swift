import Domain
import Testing

/// Values from outside at their extremes never trap, a pooled share is held from its validation, and an invited
/// laureate takes part only once it joins.
@Suite("Trust: bounded money, held shares, consent")
struct TrustTests {
    // MARK: Money never traps

    static let extremes = [Int.min, Int.min + 1, -1_000_000_000_000, -1, 0, 1, 99, 100, 1_000_000_007, Int.max / 2, Int.max - 1, Int.max]

    @Test(arguments: extremes, [1, 2, 3, 100, 10_000, Int.max])
    func roundedDivisionNeverTrapsAndRoundsHalvesAwayFromZero(_ numerator: Int, _ denominator: Int) {
        let result = Money.roundedDivision(numerator, by: denominator)
        // Reference at double width: round(|n| / d) = ⌊(2|n| + d) / 2d⌋, then the sign of n.
        let doubled = numerator.magnitude.multipliedFullWidth(by: 2)
        let (low, carry) = doubled.low.addingReportingOverflow(UInt(denominator))
        let (quotient, _) = (UInt(denominator) * 2).dividingFullWidth((doubled.high + (carry ? 1 : 0), low))
        #expect(result.magnitude == quotient)
        #expect(result == 0 || (result < 0) == (numerator < 0))
    }

    @Test func roundedDivisionKnownValues() {
        #expect(Money.roundedDivision(15, by: 10) == 2 && Money.roundedDivision(-15, by: 10) == -2)
        #expect(Money.roundedDivision(14, by: 10) == 1 && Money.roundedDivision(-14, by: 10) == -1)
        #expect(Money.roundedDivision(Int.max, by: 1) == Int.max && Money.roundedDivision(Int.min, by: 1) == Int.min)
        #expect(Money.roundedDivision(Int.max, by: 2) == Int.max / 2 + 1)
    }

    @Test(
        arguments: [0, 1, 999, 1_000_000_000, Int.max / 3, Int.max],
        [[1], [1, 1], [1, 2, 3], [Int.max, 1], [Int.max / 2, Int.max / 2, 7]])
    func splittingNeverTrapsAndAlwaysSumsToTheTotal(_ total: Int, _ weights: [Int]) {
        let parts = Money.split(total, weights: weights)
        #expect(parts.count == weights.count && parts.allSatisfy { $0 >= 0 })
        #expect(Money.sum(parts) == total)
    }

    @Test func overflowReportingHelpersSayNilInsteadOfTrapping() {
        #expect(Money.product(Int.max, 2) == nil && Money.product(1 << 31, 1 << 31) == 1 << 62)
        #expect(Money.sum([Int.max, 1]) == nil && Money.sum([Int.max, -1, 1]) == Int.max)
        #expect(Money.saturatingProduct(Int.max, -2) == Int.min && Money.saturatingSum([Int.max, Int.max]) == Int.max)
    }

    // MARK: Quotes are bounded where they are validated

    static let quantities = [Int.min, -1, 0, 1, 100, Quote.maxQuantityHundredths, Quote.maxQuantityHundredths + 1, Int.max]
    static let prices = [Int.min, -1, 0, 1, 60_000, Quote.maxUnitPriceCents, Quote.maxUnitPriceCents + 1, Int.max]

    @Test(arguments: quantities, prices)
    func anyQuoteLineIsJudgedWithoutTrappingAndNothingAboveThePayableAmountPasses(_ quantity: Int, _ price: Int) {
        for count in [1, 24, Quote.maxLines] {
            for vat in [0, 2000, Int.max] {
                let quote = Quote(
                    lines: Array(repeating: QuoteLine(label: "Jour", quantityHundredths: quantity, unitPriceCents: price), count: count),
                    vatRateBasisPoints: vat, validUntil: day("2024-06-30"))
                for payable in [1_000_000, 6_000_000, Int.max] {
                    let errors = quote.errors(at: "/quote", maxTotalCents: payable)
                    if errors.isEmpty {
                        #expect(quote.totalCents > 0 && quote.totalCents <= min(payable, Quote.maxTotalCents))
                        #expect(quote.totalCents == quote.subtotalCents + quote.vatCents)
                    }
                    #expect(errors.allSatisfy { $0.pointer.hasPrefix("/quote/") })
                }
            }
        }
    }

    @Test func theTesterQuoteOfTwentyFourHugeLinesIsRefusedNotAPanic() {
        // 24 lines of 100 000 units at 10 000 000 € and 20 % VAT: used to overflow Int and stop the server.
        let huge = QuoteLine(label: "Jour", quantityHundredths: 10_000_000, unitPriceCents: 1_000_000_000)
        let quote = Quote(lines: Array(repeating: huge, count: 24), vatRateBasisPoints: 2000, validUntil: day("2024-06-30"))
        #expect(quote.errors(at: "/quote").contains { $0.code == "out_of_range" })
        // A single line at the largest accepted price still cannot pass what a mission may cost.
        let single = Quote(
            lines: [QuoteLine(label: "Jour", quantityHundredths: 10_000_000, unitPriceCents: Quote.maxUnitPriceCents)],
            vatRateBasisPoints: 2000, validUntil: day("2024-06-30"))
        #expect(single.errors(at: "/quote", maxTotalCents: 2_000_000).map(\.code) == ["above_payable"])
    }

    @Test func aQuoteAboveTheSumOfItsLaureatesCeilingsIsRefusedWhenProposed() throws {
        let scoped = try MissionWorkflow.apply(
            .scope, by: .expert(id: "E1"), to: requestedMission(laureates: ["L1", "L2"]), context: context())
        // Ceilings 2 × 20 000 €: a quote of 40 000,01 € including VAT can never be accepted.
        let over = proposal(lines: [QuoteLine(label: "Mission", quantityHundredths: 100, unitPriceCents: 3_333_334)])
        #expect(over.quote.totalCents == 4_000_001)
        #expect(throws: MissionError.self) {
            try MissionWorkflow.apply(.propose(over, shares: nil), by: .expert(id: "E1"), to: scoped, context: context())
        }
        let exact = proposal(lines: [QuoteLine(label: "Mission", quantityHundredths: 100, unitPriceCents: 3_333_333)])
        #expect(exact.quote.totalCents == 4_000_000)
        let proposed = try MissionWorkflow.apply(.propose(exact, shares: nil), by: .expert(id: "E1"), to: scoped, context: context())
        #expect(proposed.state == .proposed)
    }

    // MARK: A pooled share is held from its validation

    enum Step: CaseIterable, CustomTestStringConvertible {
        /// L3 validates its 6 000 € share of the pooled mission.
        case l3ValidatesPool
        /// L3 accepts its own 5 000,04 € mission.
        case l3AcceptsSolo
        /// L1 validates its share of the pooled mission.
        case l1ValidatesPool
        var testDescription: String { "\(self)" }
    }

    /// The tester's example, in every order: L3 (10 000 €) must never end above its ceiling.
    @Test(arguments: permutations(Step.allCases))
    func noOrderOfAcceptancesTakesALaureatePastItsCeiling(_ order: [Step]) throws {
        let ceilings = ["L1": 2_000_000, "L3": 1_000_000]
        let pooledProposal = proposal(lines: [QuoteLine(label: "Mutualisée", quantityHundredths: 100, unitPriceCents: 1_000_000)])
        var pool = try MissionWorkflow.apply(
            .scope, by: .expert(id: "E1"), to: requestedMission(laureates: ["L1", "L3"]), context: context())
        pool.id = "POOL"
        pool = try MissionWorkflow.apply(
            .propose(pooledProposal, shares: ["L1": 600_000, "L3": 600_000]), by: .expert(id: "E1"), to: pool, context: context())
        let soloProposal = proposal(lines: [QuoteLine(label: "Solo", quantityHundredths: 100, unitPriceCents: 416_700)])
        #expect(soloProposal.quote.totalCents == 500_040)
        var solo = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: requestedMission(laureates: ["L3"]), context: context())
        solo.id = "SOLO"
        solo = try MissionWorkflow.apply(.propose(soloProposal, shares: nil), by: .expert(id: "E1"), to: solo, context: context())

        func ledger(_ laureate: String, excluding id: String, _ missions: [Mission]) -> BudgetLedger {
            let commitments = missions.filter { $0.id != id }.flatMap { mission in
                mission.participants.filter { $0.laureateID == laureate }.map {
                    BudgetLedger.Commitment(state: mission.state, shareCents: $0.shareCents ?? 0, validated: $0.acceptedOn != nil)
                }
            }
            return BudgetLedger(ceilingCents: ceilings[laureate] ?? 0, committedCents: BudgetLedger.committed(commitments))
        }
        var refused: [Step] = []
        for step in order {
            let (laureate, target) = step == .l3AcceptsSolo ? ("L3", solo) : (step == .l3ValidatesPool ? "L3" : "L1", pool)
            let missions = [pool, solo]
            var ctx = context()
            ctx.budgets = Dictionary(uniqueKeysWithValues: target.laureateIDs.map { ($0, ledger($0, excluding: target.id, missions)) })
            let outcome = Result { () throws(MissionError) -> Mission in
                try MissionWorkflow.apply(.accept, by: .laureate(id: laureate), to: target, context: ctx)
            }
            switch outcome {
            case .success(let after): if target.id == pool.id { pool = after } else { solo = after }
            case .failure(.budgetExceeded): refused.append(step)
            case .failure(let other): Issue.record("unexpected refusal \(other)")
            }
        }
        let l3 = ledger("L3", excluding: "", [pool, solo])
        #expect(l3.committedCents <= 1_000_000)
        // Whichever of L3's two validations comes second is refused; L1's never is.
        #expect(refused.count == 1 && refused != [.l1ValidatesPool])
    }

    @Test func aHeldShareIsReleasedWhenTheProposalGoesBackOrEnds() throws {
        let held = BudgetLedger.Commitment(state: .proposed, shareCents: 600_000, validated: true)
        #expect(BudgetLedger.committed([held]) == 600_000 && BudgetLedger.held([held]) == 600_000)
        for state in [MissionState.scoping, .declined, .cancelled] {
            #expect(BudgetLedger.committed([.init(state: state, shareCents: 600_000, validated: true)]) == 0)
        }
        #expect(BudgetLedger.committed([.init(state: .proposed, shareCents: 600_000, validated: false)]) == 0)
        #expect(BudgetLedger.committed([.init(state: .accepted, shareCents: 600_000, validated: true)]) == 600_000)
        // Sending back clears the validation, so the hold goes with it.
        var mission = try MissionWorkflow.apply(
            .scope, by: .expert(id: "E1"), to: requestedMission(laureates: ["L1", "L2"]), context: context())
        mission = try MissionWorkflow.apply(.propose(proposal(), shares: nil), by: .expert(id: "E1"), to: mission, context: context())
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        #expect(mission.participants[0].acceptedOn != nil)
        mission = try MissionWorkflow.apply(.sendBack(comment: "Revoir"), by: .laureate(id: "L2"), to: mission, context: context())
        #expect(mission.participants.allSatisfy { $0.acceptedOn == nil })
    }

    // MARK: Consent for pooled missions

    func invitation() throws -> Mission {
        try MissionWorkflow.request(
            id: "M1", ref: MissionRef(year: 2023, sequence: 1)!, title: "Mutualisée", expertID: "E1", laureateIDs: ["L1", "L2", "L3"],
            requester: "L1", conflicts: .init())
    }

    @Test func anInvitedLaureateTakesPartOnlyOnceItJoins() throws {
        let mission = try invitation()
        #expect(mission.joinedLaureateIDs == ["L1"] && mission.pendingLaureateIDs == ["L2", "L3"])
        #expect(mission.participants(visibleTo: .expert(id: "E1")).map(\.laureateID) == ["L1"])
        #expect(mission.participants(visibleTo: .laureate(id: "L2")).count == 3)
        // Its timeline says the same: the steps of the invited laureates' members stay out of the expert's.
        #expect(mission.timelineLaureates(visibleTo: .expert(id: "E1")) == ["L1"])
        #expect(mission.timelineLaureates(visibleTo: .laureate(id: "L2")) == nil && mission.timelineLaureates(visibleTo: .admin) == nil)
        #expect(throws: MissionError.invitationsPending(laureateIDs: ["L2", "L3"])) {
            try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: mission, context: context())
        }
        // An invited laureate answers the invitation before anything else: it cannot cancel the others' request.
        #expect(throws: MissionError.notJoined(laureateID: "L2")) {
            try MissionWorkflow.apply(.cancel(reason: nil), by: .laureate(id: "L2"), to: mission, context: context())
        }
        var joined = try MissionWorkflow.apply(.join, by: .laureate(id: "L2"), to: mission, context: context())
        #expect(throws: MissionError.alreadyDone(laureateID: "L2", action: .join)) {
            try MissionWorkflow.apply(.join, by: .laureate(id: "L2"), to: joined, context: context())
        }
        joined = try MissionWorkflow.apply(.leave, by: .laureate(id: "L3"), to: joined, context: context())
        #expect(joined.laureateIDs == ["L1", "L2"] && joined.state == .requested)
        let scoped = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: joined, context: context())
        #expect(scoped.state == .scoping)
        #expect(throws: MissionError.self) {
            try MissionWorkflow.apply(.join, by: .laureate(id: "L1"), to: scoped, context: context())
        }
    }

    @Test func theButtonsOfferedAreTheOnesThatWork() throws {
        let mission = try invitation()
        #expect(!MissionWorkflow.allowedActions(on: mission, for: .expert(id: "E1")).contains(.scope))
        #expect(MissionWorkflow.allowedActions(on: mission, for: .laureate(id: "L2")) == [.leave, .join])
        let solo = requestedMission()
        #expect(MissionWorkflow.allowedActions(on: solo, for: .laureate(id: "L1")) == [.cancel])
        #expect(MissionWorkflow.allowedActions(on: solo, for: .expert(id: "E1")) == [.scope, .decline])
    }

    @Test func aShareAboveItsLaureatesCeilingOrAConflictIsRefusedWhenProposed() throws {
        let scoped = try MissionWorkflow.apply(
            .scope, by: .expert(id: "E1"), to: requestedMission(laureates: ["L1", "L2"]), context: context())
        var ctx = context()
        ctx.budgets["L2"] = BudgetLedger(ceilingCents: 1_000_000, committedCents: 0)
        let quote = proposal(lines: [QuoteLine(label: "Mutualisée", quantityHundredths: 100, unitPriceCents: 1_000_000)])
        #expect(
            throws: MissionError.invalid([
                FieldError("/shares", "above_ceiling", "The share of laureate L2, 11\u{202F}000,00\u{00A0}€, is above its support ceiling.")
            ])
        ) {
            try MissionWorkflow.apply(
                .propose(quote, shares: ["L1": 100_000, "L2": 1_100_000]), by: .expert(id: "E1"), to: scoped, context: ctx)
        }
        var conflicted = context()
        conflicted.conflicts = ConflictRegistry([.init(expertID: "E1", laureateID: "L2")])
        #expect(throws: MissionError.conflictOfInterest(expertID: "E1", laureateID: "L2")) {
            try MissionWorkflow.apply(.propose(quote, shares: nil), by: .expert(id: "E1"), to: scoped, context: conflicted)
        }
    }

    @Test func whenEveryInvitedLaureateDeclinesTheRequestIsCancelled() throws {
        var mission = try invitation()
        mission = try MissionWorkflow.apply(.leave, by: .laureate(id: "L2"), to: mission, context: context())
        #expect(mission.state == .requested)
        mission = try MissionWorkflow.apply(.leave, by: .laureate(id: "L3"), to: mission, context: context())
        #expect(mission.state == .cancelled && mission.laureateIDs == ["L1"])
    }

    @Test func aRequestMustIncludeTheRequestersLaureateAndAtMostAHundred() {
        #expect(throws: MissionError.self) {
            try MissionWorkflow.request(
                id: "M1", ref: MissionRef(year: 2023, sequence: 1)!, title: "t", expertID: "E1", laureateIDs: ["L2"], requester: "L1",
                conflicts: .init())
        }
        #expect(throws: MissionError.self) {
            try MissionWorkflow.request(
                id: "M1", ref: MissionRef(year: 2023, sequence: 1)!, title: "t", expertID: "E1",
                laureateIDs: (0...MissionWorkflow.maxParticipants).map { "L\($0)" }, conflicts: .init())
        }
    }
}

/// Every ordering of `items`.
func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    return items.indices.flatMap { index in
        var rest = items
        let first = rest.remove(at: index)
        return permutations(rest).map { [first] + $0 }
    }
}
