import Domain
import Testing

@Suite("Expert cards")
struct ExpertCardTests {
    @Test func aCompleteCardCanBeSubmitted() throws {
        #expect(completeCard().submissionErrors().isEmpty)
        #expect(try CardWorkflow.submit(completeCard(), from: .draft, actor: .owner) == .submitted)
    }

    @Test func anEmptyCardListsEveryMissingAnswerAtOnce() {
        let pointers = Set(ExpertCardContent().submissionErrors().map(\.pointer))
        #expect(
            pointers == [
                "/first_name", "/last_name", "/organisation/name", "/organisation/siret", "/contact/email", "/summary",
                "/subthemes", "/coverage", "/experiences", "/declaration",
            ])
    }

    @Test func eachBadAnswerIsNamedByItsPointer() {
        var card = completeCard()
        card.organisation.siret = "73282932000075"
        card.contact.email = "claire@"
        card.contact.phone = "12"
        card.contact.website = "atelier.fr"
        card.subthemeCodes = ["4.2", "13.1"]
        card.coverage = Coverage(regionCodes: ["99"], departmentCodes: ["20"])
        card.experiences = [PriorExperience(tiersLieu: " ", description: "x", productive: false)]
        card.declaration = nil
        let errors = card.submissionErrors()
        #expect(
            errors.map(\.description) == [
                "/organisation/siret: invalid_siret", "/contact/email: invalid_email", "/contact/phone: invalid_phone",
                "/contact/website: invalid_url", "/subthemes/1: unknown_subtheme", "/coverage/regions/0: unknown_region",
                "/coverage/departments/0: unknown_department", "/experiences/0/tiers_lieu: required",
                "/declaration: declaration_required",
            ])
        #expect(throws: CardError.incomplete(errors)) { try CardWorkflow.submit(card, from: .draft, actor: .owner) }
    }

    @Test func nationalAloneIsEnoughCoverageButRemoteAloneIsNot() {
        var card = completeCard()
        card.coverage = Coverage(national: true)
        #expect(card.submissionErrors().isEmpty)
        card.coverage = Coverage(remote: true)
        #expect(card.submissionErrors().map(\.pointer) == ["/coverage"])
    }

    /// The whole permission matrix, written out independently of the implementation's table.
    static let allowed: [CardState: [CardAction: [CardActor: CardState]]] = [
        .draft: [.submit: [.owner: .submitted], .withdraw: [.owner: .withdrawn]],
        .submitted: [
            .requestChanges: [.admin: .changesRequested], .publish: [.admin: .published], .reject: [.admin: .rejected],
            .withdraw: [.owner: .withdrawn],
        ],
        .changesRequested: [.submit: [.owner: .submitted], .withdraw: [.owner: .withdrawn]],
        .published: [.suspend: [.admin: .suspended], .withdraw: [.owner: .withdrawn]],
        .suspended: [.reinstate: [.admin: .published], .withdraw: [.owner: .withdrawn]],
        .withdrawn: [.reopen: [.owner: .draft]],
        .rejected: [:],
    ]

    @Test(arguments: CardState.allCases)
    func everyTransitionForEveryActorIsAllowedOrRefusedAsTheProgrammeSays(_ state: CardState) {
        for action in CardAction.allCases {
            for actor in CardActor.allCases {
                let expected = Self.allowed[state]?[action]?[actor]
                let result = try? CardWorkflow.next(from: state, action: action, actor: actor)
                #expect(result == expected, "\(state) \(action) by \(actor)")
                if expected == nil {
                    #expect(throws: CardError.transitionNotAllowed(from: state, action: action, actor: actor)) {
                        try CardWorkflow.next(from: state, action: action, actor: actor)
                    }
                }
            }
        }
    }

    @Test func onlyPublishedCardsAreListedAndOnlyDraftsOrSentBackCardsAreEditableByTheirOwner() {
        #expect(CardState.allCases.filter(\.isListed) == [.published])
        for state in CardState.allCases {
            for actor in CardActor.allCases {
                #expect(
                    CardWorkflow.canEdit(state, actor: actor)
                        == (actor == .owner && [.draft, .changesRequested].contains(state)))
            }
        }
    }
}
