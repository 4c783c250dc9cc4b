import Domain
import Testing

@Suite("Dossier access, conflicts, accounts and framing notes")
struct DossierAndAccountTests {
    static func engagement(_ mission: String, expert: String, laureates: [String] = ["L1"], _ state: MissionState) -> Engagement {
        Engagement(missionID: mission, title: "Mission \(mission)", expertID: expert, laureateIDs: laureates, state: state)
    }

    @Test(arguments: MissionState.allCases)
    func anExpertReadsTheDossierOnlyWhileEngagedAndReadOnlyAfterClosure(_ state: MissionState) {
        let access = DossierAccess.of(expertID: "E1", to: "L1", through: [Self.engagement("M1", expert: "E1", state)])
        switch state {
        case .requested, .declined, .cancelled: #expect(access == .none)
        case .scoping, .proposed, .accepted, .reported: #expect(access == .active && access.canWriteMissionFiles)
        case .closed, .terminated: #expect(access == .archived && access.canRead && !access.canWriteMissionFiles)
        }
        #expect(DossierAccess.of(expertID: "E2", to: "L1", through: [Self.engagement("M1", expert: "E1", state)]) == .none)
        #expect(DossierAccess.of(expertID: "E1", to: "L2", through: [Self.engagement("M1", expert: "E1", state)]) == .none)
    }

    @Test func theBestEngagementWins() {
        let engagements = [Self.engagement("M1", expert: "E1", .closed), Self.engagement("M2", expert: "E1", .scoping)]
        #expect(DossierAccess.of(expertID: "E1", to: "L1", through: engagements) == .active)
    }

    @Test func engagedExpertsSeeEachOtherButNeverAmountsAndOutsidersSeeNobody() {
        let engagements = [
            Self.engagement("M1", expert: "E1", .accepted), Self.engagement("M2", expert: "E2", .scoping),
            Self.engagement("M3", expert: "E3", .requested), Self.engagement("M4", expert: "E4", laureates: ["L2"], .accepted),
            Self.engagement("M5", expert: "E5", laureates: ["L1", "L2"], .closed),
        ]
        let seen = DossierAccess.colleagues(of: "E1", at: "L1", engagements: engagements)
        #expect(seen.map(\.expertID) == ["E2", "E5"])
        #expect(seen.first?.missionTitle == "Mission M2")
        #expect(DossierAccess.colleagues(of: "E3", at: "L1", engagements: engagements).isEmpty)
        #expect(DossierAccess.colleagues(of: "E4", at: "L1", engagements: engagements).isEmpty)
    }

    @Test func anAccountIsNeverBothAnExpertAndALaureateMember() throws {
        #expect(try AccountLink.none.linking(.expert(id: "E1")) == .expert(id: "E1"))
        #expect(try AccountLink.expert(id: "E1").linking(.expert(id: "E1")) == .expert(id: "E1"))
        #expect(throws: AccountLink.Error.alreadyLinked(.expert(id: "E1"))) {
            try AccountLink.expert(id: "E1").linking(.laureate(id: "L1"))
        }
        #expect(throws: AccountLink.Error.alreadyLinked(.laureate(id: "L1"))) {
            try AccountLink.laureate(id: "L1").linking(.expert(id: "E1"))
        }
        #expect(throws: AccountLink.Error.alreadyLinked(.laureate(id: "L1"))) {
            try AccountLink.laureate(id: "L1").linking(.laureate(id: "L2"))
        }
    }

    @Test func everyFramingNoteVersionIsKeptAndNumbered() throws {
        let first = try FramingNoteVersion.revise(
            nil, laureateID: "L1", needs: [Need(subthemeCode: "1.1", priority: .high, description: "Bail")])
        let second = try FramingNoteVersion.revise(
            first, laureateID: "L1", needs: [Need(subthemeCode: "4.2", priority: .medium, description: "")])
        #expect(first.version == 1 && second.version == 2)
        #expect(throws: ValidationFailure([FieldError("/needs", "required", "A framing note states at least one need.")])) {
            try FramingNoteVersion.revise(second, laureateID: "L1", needs: [])
        }
        let errors = FramingNoteVersion.errors(needs: [
            Need(subthemeCode: "1.1", priority: .high, description: ""), Need(subthemeCode: "1.1", priority: .low, description: ""),
            Need(subthemeCode: "99.9", priority: .low, description: ""),
        ])
        #expect(errors.map(\.description) == ["/needs/1/subtheme: duplicate", "/needs/2/subtheme: unknown_subtheme"])
    }

    @Test func aLaureateRecordFollowsTheProgrammeSettings() {
        let laureate = Laureate(
            id: "L1", name: "La Fabrique", slug: "la-fabrique", legalEntity: "Association", siret: "44306184100047",
            communeINSEE: "42218", communeName: "Saint-Étienne", departmentCode: "42", territoryTypes: [.smallOrMediumTown],
            cohort: 3, sectors: ["bois"], supportCeilingCents: 1_500_000)
        #expect(laureate.errors(settings: settings).isEmpty)
        #expect(laureate.regionCode == "84")
        var wrong = laureate
        wrong.supportCeilingCents = 1_200_000
        wrong.cohort = 7
        wrong.departmentCode = "20"
        #expect(wrong.errors(settings: settings).map(\.code) == ["unknown_department", "unknown_cohort", "invalid_ceiling"])
    }
}
