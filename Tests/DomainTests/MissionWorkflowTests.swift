import Domain
import Testing

@Suite("Mission lifecycle")
struct MissionWorkflowTests {
    /// SPEC §4.3 written out as a matrix, independently of the implementation's table.
    static let allowed: [MissionState: [MissionAction: [MissionActor: MissionState]]] = [
        .requested: [
            .scope: [.expert: .scoping], .decline: [.expert: .declined],
            .cancel: [.laureate: .cancelled, .admin: .cancelled], .leave: [.laureate: .requested], .join: [.laureate: .requested],
        ],
        .scoping: [
            .propose: [.expert: .proposed], .decline: [.expert: .declined, .laureate: .declined],
            .cancel: [.laureate: .cancelled, .admin: .cancelled], .leave: [.laureate: .scoping],
        ],
        .proposed: [
            .sendBack: [.laureate: .scoping], .accept: [.laureate: .accepted],
            .decline: [.expert: .declined, .laureate: .declined], .cancel: [.laureate: .cancelled, .admin: .cancelled],
            .leave: [.laureate: .scoping],
        ],
        .accepted: [.report: [.expert: .reported], .terminate: [.admin: .terminated]],
        .reported: [.review: [.laureate: .closed], .terminate: [.admin: .terminated]],
        .closed: [:], .declined: [:], .cancelled: [:], .terminated: [:],
    ]

    @Test(arguments: MissionState.allCases)
    func everyTransitionForEveryActorIsAllowedOrRefusedAsTheProgrammeSays(_ state: MissionState) {
        for action in MissionAction.allCases {
            for actor in MissionActor.allCases {
                let expected = Self.allowed[state]?[action]?[actor]
                let result = try? MissionWorkflow.next(from: state, action: action, actor: actor)
                #expect(result == expected, "\(state) \(action) by \(actor)")
                if expected == nil {
                    #expect(throws: MissionError.transitionNotAllowed(from: state, action: action, actor: actor)) {
                        try MissionWorkflow.next(from: state, action: action, actor: actor)
                    }
                }
            }
            #expect(
                MissionWorkflow.allowedActions(in: state, for: .expert)
                    == MissionAction.allCases.filter { Self.allowed[state]?[$0]?[.expert] != nil })
        }
    }

    @Test func afterAcceptanceTheExpertIsBoundToFinish() {
        #expect(MissionWorkflow.allowedActions(in: .accepted, for: .expert) == [.report])
        #expect(MissionWorkflow.allowedActions(in: .reported, for: .expert).isEmpty)
        for state in MissionState.allCases where state.bindsExpert {
            #expect(MissionWorkflow.allowedActions(in: state, for: .laureate).allSatisfy { ![.decline, .cancel, .leave].contains($0) })
            #expect(MissionWorkflow.allowedActions(in: state, for: .admin) == [.terminate])
        }
        #expect(MissionState.allCases.filter(\.bindsExpert) == [.accepted, .reported])
        #expect(
            MissionState.allCases.filter(\.isFinal).allSatisfy { state in
                MissionActor.allCases.allSatisfy { MissionWorkflow.allowedActions(in: state, for: $0).isEmpty }
            })
    }

    @Test func theWholeMissionFromRequestToClosure() throws {
        let ctx = context()
        var mission = requestedMission()
        mission = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: mission, context: ctx)
        #expect(mission.state == .scoping)
        mission = try MissionWorkflow.apply(.propose(proposal(), shares: nil), by: .expert(id: "E1"), to: mission, context: ctx)
        #expect(mission.state == .proposed)
        #expect(mission.participants[0].shareCents == 360_000)
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: ctx)
        #expect(mission.state == .accepted)
        #expect(mission.participants[0].acceptedOn == day("2023-05-15"))
        mission = try MissionWorkflow.apply(.report(sampleReport), by: .expert(id: "E1"), to: mission, context: ctx)
        mission = try MissionWorkflow.apply(.review(sampleReview()), by: .laureate(id: "L1"), to: mission, context: ctx)
        #expect(mission.state == .closed)
    }

    @Test func aLaureateWithoutAFramingNoteCannotGetAMissionPastRequested() throws {
        let mission = requestedMission()
        #expect(throws: MissionError.framingNoteMissing(laureateID: "L1")) {
            try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: mission, context: context(notes: []))
        }
        let declined = try MissionWorkflow.apply(.decline(reason: nil), by: .expert(id: "E1"), to: mission, context: context(notes: []))
        #expect(declined.state == .declined)
    }

    @Test func anotherExpertOrLaureateCannotActOnTheMission() {
        let mission = requestedMission()
        #expect(throws: MissionError.transitionNotAllowed(from: .requested, action: .scope, actor: .otherExpert)) {
            try MissionWorkflow.apply(.scope, by: .expert(id: "E2"), to: mission, context: context())
        }
        #expect(throws: MissionError.transitionNotAllowed(from: .requested, action: .cancel, actor: .otherLaureate)) {
            try MissionWorkflow.apply(.cancel(reason: nil), by: .laureate(id: "L2"), to: mission, context: context())
        }
    }

    @Test func aConflictOfInterestPreventsRequestingScopingAndAccepting() throws {
        var registry = ConflictRegistry()
        registry.record(expertID: "E1", laureateID: "L2")
        #expect(throws: MissionError.conflictOfInterest(expertID: "E1", laureateID: "L2")) {
            try MissionWorkflow.request(
                id: "M", ref: MissionRef("2023-0001")!, title: "t", expertID: "E1", laureateIDs: ["L1", "L2"], conflicts: registry)
        }
        let mission = requestedMission()
        var late = ConflictRegistry()
        late.record(expertID: "E1", laureateID: "L1")
        #expect(throws: MissionError.conflictOfInterest(expertID: "E1", laureateID: "L1")) {
            try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: mission, context: context(conflicts: late))
        }
        var proposed = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: mission, context: context())
        proposed = try MissionWorkflow.apply(.propose(proposal(), shares: nil), by: .expert(id: "E1"), to: proposed, context: context())
        #expect(throws: MissionError.conflictOfInterest(expertID: "E1", laureateID: "L1")) {
            try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: proposed, context: context(conflicts: late))
        }
    }

    @Test func terminatingNeedsAReasonAndSendingBackNeedsComments() throws {
        var mission = try proposedMission()
        #expect(throws: MissionError.reasonRequired) {
            try MissionWorkflow.apply(.sendBack(comment: "  "), by: .laureate(id: "L1"), to: mission, context: context())
        }
        let sentBack = try MissionWorkflow.apply(
            .sendBack(comment: "Préciser le calendrier"), by: .laureate(id: "L1"), to: mission, context: context())
        #expect(sentBack.state == .scoping && sentBack.lastComment == "Préciser le calendrier")
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        #expect(throws: MissionError.reasonRequired) {
            try MissionWorkflow.apply(.terminate(reason: ""), by: .admin, to: mission, context: context())
        }
        let ended = try MissionWorkflow.apply(.terminate(reason: "Expert indisponible"), by: .admin, to: mission, context: context())
        #expect(ended.state == .terminated)
        #expect(ended.state.commitsBudget)
    }

    @Test func anInvalidProposalListsEveryProblem() throws {
        let mission = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: requestedMission(), context: context())
        let bad = proposal(
            lines: [QuoteLine(label: "", quantityHundredths: 0, unitPriceCents: -1)], vat: 1900, validUntil: "2023-01-01",
            schedule: ("2023-01-15", "2023-03-01"))
        do {
            _ = try MissionWorkflow.apply(.propose(bad, shares: nil), by: .expert(id: "E1"), to: mission, context: context())
            Issue.record("an invalid proposal was accepted")
        } catch let error {
            guard case .invalid(let errors) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(
                errors.map(\.description) == [
                    "/diagnostic/start_on: outside_window", "/quote/lines/0/label: required",
                    "/quote/lines/0/quantity_hundredths: out_of_range", "/quote/lines/0/unit_price_cents: out_of_range",
                    "/quote/vat_rate_basis_points: invalid_vat_rate", "/quote/valid_until: in_the_past",
                ])
        }
    }
}

func proposedMission(laureates: [String] = ["L1"], shares: [String: Int]? = nil, proposal p: Proposal = proposal()) throws -> Mission {
    var mission = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: requestedMission(laureates: laureates), context: context())
    mission = try MissionWorkflow.apply(.propose(p, shares: shares), by: .expert(id: "E1"), to: mission, context: context())
    return mission
}

@Suite("Reports and reviews")
struct ReportsAndReviewsTests {
    @Test func aReportNeedsItsActionsDeliverablesResultsAndDays() {
        let empty = MissionReport(actions: " ", deliverables: "", daysSpentHundredths: 0, results: "", recommendations: "")
        #expect(
            empty.errors().map(\.description) == [
                "/actions: required", "/deliverables: required", "/results: required", "/days_spent_hundredths: out_of_range",
            ])
        #expect(sampleReport.errors().isEmpty)
    }

    @Test func aReviewRatesEveryCriterionFromOneToFive() throws {
        var review = sampleReview(5)
        #expect(review.errors().isEmpty && review.averageHundredths == 500)
        review.ratings[.deadlines] = 6
        review.ratings[.listening] = nil
        #expect(review.errors().map(\.description) == ["/ratings/listening: required", "/ratings/deadlines: out_of_range"])
        review.ratings = [.expertise: 5, .listening: 4, .deliverables: 4, .deadlines: 3, .usefulness: 5]
        #expect(review.averageHundredths == 420)
        // Refused in a transition, the pointers lead into its body's `review` and `report` members.
        var long = sampleReview()
        long.comments = String(repeating: "a", count: 10_001)
        var mission = try proposedMission()
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        #expect(throws: MissionError.invalid([FieldError("/report/actions", "required", "The report states its actions.")])) {
            var report = sampleReport
            report.actions = ""
            _ = try MissionWorkflow.apply(.report(report), by: .expert(id: "E1"), to: mission, context: context())
        }
        mission = try MissionWorkflow.apply(.report(sampleReport), by: .expert(id: "E1"), to: mission, context: context())
        #expect(throws: MissionError.invalid([FieldError("/review/comments", "too_long", "At most 10 000 characters.")])) {
            try MissionWorkflow.apply(.review(long), by: .laureate(id: "L1"), to: mission, context: context())
        }
    }

    @Test func anInvalidReportOrReviewChangesNothing() throws {
        var mission = try proposedMission()
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        let bad = MissionReport(actions: "", deliverables: "", daysSpentHundredths: 1, results: "", recommendations: "")
        #expect(throws: MissionError.self) {
            try MissionWorkflow.apply(.report(bad), by: .expert(id: "E1"), to: mission, context: context())
        }
        mission = try MissionWorkflow.apply(.report(sampleReport), by: .expert(id: "E1"), to: mission, context: context())
        #expect(mission.report == sampleReport)
        #expect(throws: MissionError.self) {
            try MissionWorkflow.apply(.review(sampleReview(0)), by: .laureate(id: "L1"), to: mission, context: context())
        }
        mission = try MissionWorkflow.apply(.review(sampleReview(4)), by: .laureate(id: "L1"), to: mission, context: context())
        #expect(mission.participants[0].review == sampleReview(4) && mission.state == .closed)
    }
}

@Suite("Leaving a pooled mission")
struct LeavingTests {
    @Test func aLaureateLeavesAPooledProposalAndTheOthersGoOnFromScoping() throws {
        var mission = try proposedMission(laureates: ["L1", "L2", "L3"])
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        mission = try MissionWorkflow.apply(.leave, by: .laureate(id: "L3"), to: mission, context: context())
        #expect(mission.state == .scoping && mission.laureateIDs == ["L1", "L2"])
        #expect(mission.participants.allSatisfy { $0.shareCents == nil && $0.acceptedOn == nil })
        mission = try MissionWorkflow.apply(.leave, by: .laureate(id: "L2"), to: mission, context: context())
        #expect(mission.laureateIDs == ["L1"] && !mission.isPooled)
        #expect(throws: MissionError.notPooled) {
            try MissionWorkflow.apply(.leave, by: .laureate(id: "L1"), to: mission, context: context())
        }
        #expect(throws: MissionError.self) { try MissionWorkflow.apply(.leave, by: .laureate(id: "L3"), to: mission, context: context()) }
    }
}

/// A pooled mission belongs to every laureate that joined it: one of them leaves, it does not end the others' mission
/// (found by an outside tester: an invitee that had joined cancelled the requester's pooled request).
@Suite("Ending a pooled mission")
struct EndingAPoolTests {
    func pooled(joined: Bool) throws -> Mission {
        var mission = try MissionWorkflow.request(
            id: "m", ref: MissionRef(year: 2023, sequence: 1)!, title: "Mutualisée", expertID: "E1", laureateIDs: ["L1", "L2"],
            requester: "L1", conflicts: ConflictRegistry())
        if joined { mission = try MissionWorkflow.apply(.join, by: .laureate(id: "L2"), to: mission, context: context()) }
        return mission
    }

    @Test func aLaureateWhileAnotherTakesPartLeavesInsteadOfCancellingOrDeclining() throws {
        var mission = try pooled(joined: true)
        for laureate in ["L1", "L2"] {
            #expect(throws: MissionError.othersTakePart(laureateID: laureate)) {
                try MissionWorkflow.apply(.cancel(reason: nil), by: .laureate(id: laureate), to: mission, context: context())
            }
            let actions = MissionWorkflow.allowedActions(on: mission, for: .laureate(id: laureate))
            #expect(actions.contains(.leave) && !actions.contains(.cancel) && !actions.contains(.decline))
        }
        mission = try MissionWorkflow.apply(.scope, by: .expert(id: "E1"), to: mission, context: context(notes: ["L1", "L2"]))
        #expect(throws: MissionError.othersTakePart(laureateID: "L2")) {
            try MissionWorkflow.apply(.decline(reason: nil), by: .laureate(id: "L2"), to: mission, context: context())
        }
        // The team and the expert still end it for all; a laureate left alone may too.
        #expect(try MissionWorkflow.apply(.cancel(reason: nil), by: .admin, to: mission, context: context()).state == .cancelled)
        #expect(try MissionWorkflow.apply(.decline(reason: nil), by: .expert(id: "E1"), to: mission, context: context()).state == .declined)
        mission = try MissionWorkflow.apply(.leave, by: .laureate(id: "L2"), to: mission, context: context())
        #expect(
            try MissionWorkflow.apply(.decline(reason: nil), by: .laureate(id: "L1"), to: mission, context: context()).state == .declined)
    }

    @Test func aLaureateIsNotOfferedAStepItHasAlreadyTaken() throws {
        var mission = try proposedMission(laureates: ["L1", "L2"])
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L1"), to: mission, context: context())
        #expect(!MissionWorkflow.allowedActions(on: mission, for: .laureate(id: "L1")).contains(.accept))
        #expect(MissionWorkflow.allowedActions(on: mission, for: .laureate(id: "L2")).contains(.accept))
        mission = try MissionWorkflow.apply(.accept, by: .laureate(id: "L2"), to: mission, context: context())
        mission = try MissionWorkflow.apply(.report(sampleReport), by: .expert(id: "E1"), to: mission, context: context())
        mission = try MissionWorkflow.apply(.review(sampleReview()), by: .laureate(id: "L2"), to: mission, context: context())
        #expect(!MissionWorkflow.allowedActions(on: mission, for: .laureate(id: "L2")).contains(.review))
        #expect(MissionWorkflow.allowedActions(on: mission, for: .laureate(id: "L1")).contains(.review))
    }

    @Test func theRequesterCancelsWhileInvitationsAreUnanswered() throws {
        let mission = try pooled(joined: false)
        #expect(MissionWorkflow.allowedActions(on: mission, for: .laureate(id: "L1")).contains(.cancel))
        #expect(
            try MissionWorkflow.apply(.cancel(reason: nil), by: .laureate(id: "L1"), to: mission, context: context()).state == .cancelled)
    }

    @Test func theLastLaureateTakingPartLeavingEndsTheRequestForTheInvited() throws {
        let mission = try pooled(joined: false)
        let left = try MissionWorkflow.apply(.leave, by: .laureate(id: "L1"), to: mission, context: context())
        #expect(left.state == .cancelled && left.joinedLaureateIDs.isEmpty)
    }
}
