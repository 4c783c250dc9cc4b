import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

/// A programme in motion: a published expert, three laureates (the first with a framing note), a member each, and a
/// clock inside the support window.
struct Programme: Sendable {
    let database: AppDatabase
    let clock: TestClock
    let admin: String
    let expert: String
    let expertID: String
    let otherExpert: String
    let laureates: [(id: String, token: String)]

    /// Every person's password in these tests (for the operations that want a password login's token).
    static let password = "mot de passe de test"

    /// `directory`: the production configuration (a file-backed WAL `DatabasePool` there) instead of a memory queue.
    static func make(ceilings: [Int] = [1_500_000, 1_000_000, 2_000_000], directory: String? = nil) throws -> Programme {
        let clock = TestClock()
        clock.set(CalendarDate(2023, 6, 1)!)
        let options = AppDatabase.Options(clock: { clock.now }, bcryptCost: 4)
        let database =
            try directory.map { try AppDatabase.file(inDirectory: $0, options: options) } ?? AppDatabase.throwaway(options: options)
        let token = { (account: Account) in try database.createPersonalToken(for: account, name: "test", days: 30).secret }
        let admin = try database.createAccount(email: "equipe@ftl.fr", password: nil, role: .admin, displayName: "Équipe")
        let expert = try database.importExpert(sampleCard(email: "claire@conseil.fr"), state: .published, password: Self.password)
        let other = try database.importExpert(
            sampleCard(first: "Paul", last: "Autre", email: "paul@autre.fr"), state: .published, password: Self.password)
        var laureates: [(String, String)] = []
        for (index, ceiling) in ceilings.enumerated() {
            let laureate = try database.createLaureate(
                name: "Manufacture \(index + 1)", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218",
                communeName: "Saint-Étienne", departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: ["bois"],
                supportCeilingCents: ceiling, settings: .manufacturesDeProximite)
            let member = try database.createAccount(
                email: "membre\(index + 1)@manufacture.fr", password: Self.password, role: .laureate, displayName: "Membre \(index + 1)",
                link: .laureate(id: laureate.id))
            laureates.append((laureate.id, try token(member)))
        }
        return Programme(
            database: database, clock: clock, admin: try token(admin), expert: try token(expert.account), expertID: expert.expertID,
            otherExpert: try token(other.account), laureates: laureates)
    }
}

extension TestClock {
    func set(_ day: CalendarDate) {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (day.year, day.month, day.day, 12)
        let target = Calendar(identifier: .gregorian).date(from: components)!
        advance(by: target.timeIntervalSince(now))
    }
}

var needs: [[String: Any]] { [["subtheme": "4.2", "priority": "high", "description": "Consolider le modèle économique"]] }

func proposalBody(totalBeforeVAT cents: Int, shares: [(String, Int)]? = nil) -> [String: Any] {
    var body: [String: Any] = [
        "action": "propose",
        "diagnostic": [
            "context": "Atelier bois en zone rurale", "needs": "Modèle économique", "objectives": "Équilibre", "method": "Ateliers",
            "deliverables": "Plan d'affaires", "start_on": "2023-07-01", "end_on": "2023-10-31", "days_hundredths": 500,
        ],
        "quote": [
            "lines": [["label": "Accompagnement", "quantity_hundredths": 100, "unit_price_cents": cents]], "vat_rate_basis_points": 2000,
            "valid_until": "2023-12-31",
        ],
    ]
    if let shares { body["shares"] = shares.map { ["laureate_id": $0.0, "share_cents": $0.1] } }
    return body
}

var reportBody: [String: Any] {
    [
        "action": "report",
        "report": [
            "actions": "Quatre ateliers", "deliverables": "Plan d'affaires", "days_spent_hundredths": 500, "results": "Modèle validé",
            "recommendations": "Suivi à 6 mois",
        ],
    ]
}

var reviewBody: [String: Any] {
    [
        "action": "review",
        "review": [
            "ratings": ["expertise": 5, "listening": 5, "deliverables": 4, "deadlines": 4, "usefulness": 5], "would_recommend": true,
            "comments": "Très utile",
        ],
    ]
}

extension TestClientProtocol {
    /// Posts a transition with the mission's current ETag (read by `reader`).
    func step(_ mission: String, _ token: String, _ body: [String: Any], reader: String) async throws -> Reply {
        let etag = try await send(.get, "/v1/missions/\(mission)", token: reader).etag
        return try await send(
            .post, "/v1/missions/\(mission)/transitions", token: token, json: body, headers: etag.map { [.ifMatch: $0] } ?? [:])
    }

    /// A laureate member requests a mission from the programme's expert; returns its id.
    func newMission(_ p: Programme, by laureate: (id: String, token: String), title: String = "t") async throws -> String {
        let reply = try await send(
            .post, "/v1/missions", token: laureate.token, json: ["title": title, "expert_id": p.expertID, "laureate_ids": [laureate.id]])
        return try #require(reply.body["id"] as? String)
    }

    /// A pooled mission requested by the first laureate's member from the programme's expert, every other laureate
    /// joining; returns its id.
    func pooledMission(_ p: Programme, _ laureates: [(id: String, token: String)], title: String = "Mutualisée") async throws -> String {
        let reply = try await send(
            .post, "/v1/missions", token: laureates[0].token,
            json: ["title": title, "expert_id": p.expertID, "laureate_ids": laureates.map(\.id)])
        let mission = try #require(reply.body["id"] as? String)
        try await join(mission, laureates.dropFirst(), reader: p.admin)
        return mission
    }

    /// A member of each laureate accepts its invitation into a pooled request.
    func join(_ mission: String, _ laureates: some Sequence<(id: String, token: String)>, reader: String) async throws {
        for laureate in laureates {
            let reply = try await step(mission, laureate.token, ["action": "join"], reader: reader)
            #expect(reply.status == .ok)
        }
    }

    func note(_ laureate: (id: String, token: String)) async throws {
        let reply = try await send(.post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, json: ["needs": needs])
        #expect(reply.status == .created)
    }
}

@Suite("Missions: the programme workflow")
struct MissionsTests {
    @Test func theWholeProgrammeFromRegistrationToClosure() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            // The expert registers, completes the card and submits; the team publishes.
            let signUp = try await client.send(
                .post, "/v1/experts",
                json: ["email": "lea@conseil.fr", "password": "un long mot de passe", "first_name": "Léa", "last_name": "Roux"])
            let expert = try #require((signUp.body["session"] as? [String: Any])?["token"] as? String)
            let expertID = try #require((signUp.body["expert"] as? [String: Any])?["id"] as? String)
            let patch: [String: Any] = [
                "organisation": ["name": "Roux Conseil", "siret": "73282932000074"], "summary": "Stratégie économique des tiers-lieux",
                "subthemes": ["4.2"], "coverage": ["regions": ["84"], "departments": [], "national": false, "remote": true],
                "experiences": [["tiers_lieu": "La Quincaillerie", "description": "Business plan", "productive": true]],
                "declaration": ["signatory": "Léa Roux", "signed_on": "2023-05-02"],
            ]
            let edited = try await client.send(
                .patch, "/v1/experts/\(expertID)", token: expert, json: patch, headers: [.ifMatch: signUp.etag!])
            #expect(edited.status == .ok)
            let submitted = try await client.send(
                .post, "/v1/experts/\(expertID)/transitions", token: expert, json: ["action": "submit"], headers: [.ifMatch: edited.etag!])
            #expect(submitted.status == .ok)
            let published = try await client.send(
                .post, "/v1/experts/\(expertID)/transitions", token: p.admin, json: ["action": "publish"],
                headers: [.ifMatch: submitted.etag!])
            #expect(published.body["state"] as? String == "published")

            // The laureate hands in its framing note and solicits the expert.
            try await client.note(laureate)
            let requested = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "Modèle économique", "expert_id": expertID, "laureate_ids": [laureate.id]])
            #expect(requested.status == .created && requested.body["state"] as? String == "requested")
            #expect(requested.body["ref"] as? String == "2023-0001")
            let mission = try #require(requested.body["id"] as? String)

            // Before scoping the expert does not see the dossier; from scoping on it does.
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)/framing-notes", token: expert).status == .notFound)
            #expect(try await client.step(mission, expert, ["action": "scope"], reader: p.admin).body["state"] as? String == "scoping")
            let dossier = try await client.send(.get, "/v1/laureates/\(laureate.id)/framing-notes", token: expert)
            #expect(dossier.status == .ok && (dossier.body["items"] as? [Any])?.count == 1)

            // Proposal: 1 000,00 € before VAT at 20 % is 1 200,00 €.
            let proposed = try await client.step(mission, expert, proposalBody(totalBeforeVAT: 100_000), reader: p.admin)
            #expect(proposed.body["state"] as? String == "proposed")
            #expect((proposed.body["quote"] as? [String: Any])?["total_cents"] as? Int == 120_000)
            let accepted = try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin)
            #expect(accepted.body["state"] as? String == "accepted")
            let budget = try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: laureate.token)
            #expect(budget.body["committed_cents"] as? Int == 120_000 && budget.body["remaining_cents"] as? Int == 1_380_000)
            #expect(budget.body["spent_cents"] as? Int == 0)

            #expect(try await client.step(mission, expert, reportBody, reader: p.admin).body["state"] as? String == "reported")
            let closed = try await client.step(mission, laureate.token, reviewBody, reader: p.admin)
            #expect(closed.body["state"] as? String == "closed")
            #expect(
                try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: laureate.token).body["spent_cents"] as? Int
                    == 120_000)

            // After closure the dossier stays readable; the timeline tells every step.
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)/framing-notes", token: expert).status == .ok)
            let timeline = try await client.send(.get, "/v1/missions/\(mission)/events", token: laureate.token)
            #expect(
                (timeline.body["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == [
                    "mission.requested", "mission.scope", "mission.propose", "mission.accept", "mission.report", "mission.review",
                ])
        }
        #expect(try p.database.verifyAuditChain() == .intact(events: try p.database.events(after: 0, limit: 10_000).count))
    }

    @Test func theProgrammeSummaryCountsMissionsMoneyAndSatisfaction() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            for laureate in p.laureates { try await client.note(laureate) }
            var ids: [String] = []
            for (index, laureate) in p.laureates.enumerated() {
                let body: [String: Any] = [
                    "title": "M\(index)", "subthemes": ["4.2", "4.4", "12.1"], "expert_id": p.expertID, "laureate_ids": [laureate.id],
                ]
                ids.append(
                    try #require(try await client.send(.post, "/v1/missions", token: laureate.token, json: body).body["id"] as? String))
            }
            for (index, id) in ids.prefix(2).enumerated() {
                _ = try await client.step(id, p.expert, ["action": "scope"], reader: p.admin)
                _ = try await client.step(id, p.expert, proposalBody(totalBeforeVAT: 100_000), reader: p.admin)
                _ = try await client.step(id, p.laureates[index].token, ["action": "accept"], reader: p.admin)
            }
            _ = try await client.step(ids[0], p.expert, reportBody, reader: p.admin)
            _ = try await client.step(ids[0], p.laureates[0].token, reviewBody, reader: p.admin)
            #expect(try await client.send(.get, "/v1/programme/summary", token: p.expert).status == .forbidden)
            let summary = try await client.send(.get, "/v1/programme/summary", token: p.admin)
            let byState = Dictionary(
                uniqueKeysWithValues: (summary.body["missions_by_state"] as? [[String: Any]] ?? []).map {
                    ($0["code"] as! String, $0["count"] as! Int)
                })
            #expect(byState == ["requested": 1, "accepted": 1, "closed": 1])
            let byTheme = Dictionary(
                uniqueKeysWithValues: (summary.body["missions_by_theme"] as? [[String: Any]] ?? []).map {
                    ($0["code"] as! String, $0["count"] as! Int)
                })
            #expect(byTheme == ["4": 3, "12": 3])
            let budget = try #require(summary.body["budget"] as? [String: Any])
            #expect(budget["committed_cents"] as? Int == 240_000 && budget["spent_cents"] as? Int == 120_000)
            #expect(budget["ceilings_cents"] as? Int == 4_500_000 && budget["remaining_cents"] as? Int == 4_260_000)
            let satisfaction = summary.body["satisfaction_by_theme"] as? [[String: Any]] ?? []
            // Ratings 5, 5, 4, 4, 5: a mean of 4.60.
            #expect(satisfaction.first { $0["theme"] as? String == "4" }?["average_hundredths"] as? Int == 460)
            #expect((summary.body["missions_by_region"] as? [[String: Any]])?.first?["code"] as? String == "84")
        }
    }

    @Test func withoutAFramingNoteAMissionCannotPassRequested() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let mission = try await client.send(
                .post, "/v1/missions", token: p.laureates[0].token,
                json: ["title": "t", "expert_id": p.expertID, "laureate_ids": [p.laureates[0].id]])
            let id = try #require(mission.body["id"] as? String)
            let refused = try await client.step(id, p.expert, ["action": "scope"], reader: p.admin)
            #expect(refused.status == .conflict && refused.code == "framing_note_missing")
            try await client.note(p.laureates[0])
            #expect(try await client.step(id, p.expert, ["action": "scope"], reader: p.admin).status == .ok)
        }
    }

    @Test func anAcceptanceAboveTheCeilingIsRefusedWithTheRemainingAmount() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let id = try await client.newMission(p, by: laureate, title: "t")
            _ = try await client.step(id, p.expert, ["action": "scope"], reader: p.admin)
            // 8 333,34 € + 20 % = 10 000,01 €: one cent over the 10 000 € ceiling, so it could never be accepted.
            let over = try await client.step(id, p.expert, proposalBody(totalBeforeVAT: 833_334), reader: p.admin)
            #expect(over.status == .unprocessableContent && over.pointers == ["/quote/lines"])
            // 2 500 € + 20 % = 3 000 € accepted first; then 5 833,34 € + 20 % = 7 000,01 € is one cent too many.
            let first = try await client.newMission(p, by: laureate, title: "premier")
            _ = try await client.step(first, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(first, p.expert, proposalBody(totalBeforeVAT: 250_000), reader: p.admin)
            #expect(try await client.step(first, laureate.token, ["action": "accept"], reader: p.admin).status == .ok)
            _ = try await client.step(id, p.expert, proposalBody(totalBeforeVAT: 583_334), reader: p.admin)
            let refused = try await client.step(id, laureate.token, ["action": "accept"], reader: p.admin)
            #expect(refused.status == .conflict && refused.code == "budget_exceeded")
            #expect(refused.body["remaining_cents"] as? Int == 700_000)
            #expect(try await client.send(.get, "/v1/missions/\(id)", token: laureate.token).body["state"] as? String == "proposed")
        }
    }

    @Test func twoAcceptancesRacingForTheLastEurosOnlyOneWins() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.live) { client in
            try await client.note(laureate)
            var missions: [String] = []
            for title in ["Foncier", "Juridique", "Communication"] {
                let id = try await client.newMission(p, by: laureate, title: title)
                _ = try await client.step(id, p.expert, ["action": "scope"], reader: p.admin)
                // 5 000 € before VAT: 6 000 € each, only one fits under 10 000 €.
                _ = try await client.step(id, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
                missions.append(id)
            }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for id in missions {
                    group.addTask { try await client.step(id, laureate.token, ["action": "accept"], reader: p.admin).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 2)
            let budget = try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: p.admin)
            #expect(budget.body["committed_cents"] as? Int == 600_000)
        }
    }

    @Test func aPooledMissionOverThreeLaureates() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            for laureate in p.laureates { try await client.note(laureate) }
            let ids = p.laureates.map(\.id)
            let created = try await client.send(
                .post, "/v1/missions", token: p.laureates[0].token,
                json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": ids])
            let mission = try #require(created.body["id"] as? String)
            #expect(created.body["pooled"] as? Bool == true)
            // Every member of the pool sees it; the expert may refuse a pooled request, here it scopes.
            for laureate in p.laureates {
                #expect(try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token).status == .ok)
            }
            try await client.join(mission, p.laureates.dropFirst(), reader: p.admin)
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            let wrongShares = try await client.step(
                mission, p.expert, proposalBody(totalBeforeVAT: 250_000, shares: [(ids[0], 100_000), (ids[1], 100_000), (ids[2], 99_999)]),
                reader: p.admin)
            #expect(wrongShares.status == .unprocessableContent && wrongShares.pointers == ["/shares"])
            // 2 500 € + 20 % = 3 000 € split evenly: 1 000 € each.
            let proposed = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 250_000), reader: p.admin)
            #expect(
                (proposed.body["participants"] as? [[String: Any]])?.compactMap { $0["share_cents"] as? Int } == [
                    100_000, 100_000, 100_000,
                ])
            for (index, laureate) in p.laureates.enumerated() {
                let reply = try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin)
                #expect(reply.body["state"] as? String == (index < 2 ? "proposed" : "accepted"))
            }
            let again = try await client.step(mission, p.laureates[0].token, ["action": "accept"], reader: p.admin)
            #expect(again.status == .conflict)
            _ = try await client.step(mission, p.expert, reportBody, reader: p.admin)
            for (index, laureate) in p.laureates.enumerated() {
                let reply = try await client.step(mission, laureate.token, reviewBody, reader: p.admin)
                #expect(reply.body["state"] as? String == (index < 2 ? "reported" : "closed"))
            }
            for laureate in p.laureates {
                #expect(
                    try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: laureate.token).body["spent_cents"] as? Int
                        == 100_000)
            }
        }
    }

    @Test func whoMayDoWhatToAMission() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            #expect(
                try await client.send(
                    .post, "/v1/missions", token: p.expert, json: ["title": "t", "expert_id": p.expertID, "laureate_ids": [laureate.id]]
                )
                .status == .forbidden)
            #expect(
                try await client.send(
                    .post, "/v1/missions", token: laureate.token,
                    json: ["title": "t", "expert_id": p.expertID, "laureate_ids": [p.laureates[1].id]]
                )
                .status == .unprocessableContent)
            let id = try await client.newMission(p, by: laureate, title: "t")
            for outsider in [p.otherExpert, p.laureates[1].token] {
                #expect(try await client.send(.get, "/v1/missions/\(id)", token: outsider).status == .notFound)
                #expect(try await client.step(id, outsider, ["action": "scope"], reader: p.admin).status == .notFound)
                #expect(try await client.send(.get, "/v1/missions/\(id)/events", token: outsider).status == .notFound)
            }
            #expect(try await client.send(.get, "/v1/missions/\(id)").status == .unauthorized)
            #expect(try await client.step(id, laureate.token, ["action": "scope"], reader: p.admin).status == .forbidden)
            let noIfMatch = try await client.send(.post, "/v1/missions/\(id)/transitions", token: p.expert, json: ["action": "scope"])
            #expect(noIfMatch.status == .preconditionRequired)
            let stale = try await client.send(
                .post, "/v1/missions/\(id)/transitions", token: p.expert, json: ["action": "scope"], headers: [.ifMatch: "\"r1\""])
            #expect(stale.status == .preconditionFailed)
            _ = try await client.step(id, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(id, p.expert, proposalBody(totalBeforeVAT: 100_000), reader: p.admin)
            let sentBack = try await client.step(id, laureate.token, ["action": "send_back"], reader: p.admin)
            #expect(sentBack.status == .unprocessableContent)
            #expect(
                try await client.step(id, laureate.token, ["action": "send_back", "comment": "Préciser"], reader: p.admin).body["state"]
                    as? String == "scoping")
            _ = try await client.step(id, p.expert, proposalBody(totalBeforeVAT: 100_000), reader: p.admin)
            _ = try await client.step(id, laureate.token, ["action": "accept"], reader: p.admin)
            // Bound to finish: the expert can no longer decline; only the team ends it, with a reason.
            #expect(try await client.step(id, p.expert, ["action": "decline"], reader: p.admin).status == .conflict)
            #expect(
                try await client.step(id, laureate.token, ["action": "terminate", "reason": "x"], reader: p.admin).status == .forbidden)
            #expect(try await client.step(id, p.admin, ["action": "terminate"], reader: p.admin).status == .unprocessableContent)
            let terminated = try await client.step(id, p.admin, ["action": "terminate", "reason": "Expert indisponible"], reader: p.admin)
            #expect(
                terminated.body["state"] as? String == "terminated" && terminated.body["last_comment"] as? String == "Expert indisponible")
        }
    }

    @Test func aDeclaredConflictPreventsTheMission() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let conflict: [String: Any] = ["expert_id": p.expertID, "laureate_id": laureate.id, "reason": "Associée de la SCIC"]
            #expect(try await client.send(.post, "/v1/conflicts", token: laureate.token, json: conflict).status == .forbidden)
            #expect(try await client.send(.post, "/v1/conflicts", token: p.admin, json: conflict).status == .noContent)
            #expect(try await client.send(.post, "/v1/conflicts", token: p.admin, json: conflict).status == .noContent)
            #expect((try await client.send(.get, "/v1/conflicts", token: p.admin).body["items"] as? [Any])?.count == 1)
            let refused = try await client.send(
                .post, "/v1/missions", token: laureate.token, json: ["title": "t", "expert_id": p.expertID, "laureate_ids": [laureate.id]])
            #expect(refused.status == .conflict && refused.code == "conflict_of_interest")
        }
    }

    @Test func offlineClientsGetOnlyWhatChangedSinceTheirCursor() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            var ids: [String] = []
            for title in ["A", "B", "C"] {
                ids.append(
                    try await client.newMission(p, by: laureate, title: title))
            }
            let first = try await client.send(.get, "/v1/missions", token: p.expert)
            #expect((first.body["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ids)
            let cursor = try #require(first.body["next_cursor"] as? String)
            #expect(
                (try await client.send(.get, "/v1/missions?updated_after=\(cursor)", token: p.expert).body["items"] as? [Any])?.isEmpty
                    == true)
            _ = try await client.step(ids[1], p.expert, ["action": "scope"], reader: p.admin)
            let delta = try await client.send(.get, "/v1/missions?updated_after=\(cursor)", token: p.expert)
            #expect((delta.body["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[1]])
            #expect((try await client.send(.get, "/v1/missions", token: p.otherExpert).body["items"] as? [Any])?.isEmpty == true)
            #expect((try await client.send(.get, "/v1/missions", token: p.laureates[1].token).body["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.send(.get, "/v1/missions?updated_after=-1", token: p.expert).status == .badRequest)
        }
    }
}

@Suite("Laureates managed by the programme team")
struct LaureatesTests {
    @Test func theTeamEditsALaureateWithIfMatchAndNeverBelowWhatIsCommitted() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let path = "/v1/laureates/\(laureate.id)"
            let read = try await client.send(.get, path, token: p.admin)
            let etag = try #require(read.etag)
            #expect(read.body["slug"] as? String == "manufacture-1" && read.body["region"] as? String == "84")
            #expect(
                try await client.send(.patch, path, token: laureate.token, json: ["name": "x"], headers: [.ifMatch: etag]).status
                    == .forbidden)
            #expect(
                try await client.send(.patch, path, token: p.laureates[1].token, json: ["name": "x"], headers: [.ifMatch: etag]).status
                    == .notFound)
            #expect(
                try await client.send(.patch, path, token: p.expert, json: ["name": "x"], headers: [.ifMatch: etag]).status == .notFound)
            let renamed = try await client.send(
                .patch, path, token: p.admin, json: ["name": "La Grande Manufacture", "department": "2A"], headers: [.ifMatch: etag])
            #expect(
                renamed.status == .ok && renamed.body["slug"] as? String == "manufacture-1" && renamed.body["region"] as? String == "94")
            #expect(
                try await client.send(.patch, path, token: p.admin, json: ["name": "y"], headers: [.ifMatch: etag]).status
                    == .preconditionFailed)
            let invalid = try await client.send(
                .patch, path, token: p.admin, json: ["support_ceiling_cents": 1_234_500, "cohort": 9], headers: [.ifMatch: renamed.etag!])
            #expect(invalid.status == .unprocessableContent && Set(invalid.pointers) == ["/support_ceiling_cents", "/cohort"])

            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "t")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            // 10 000 € before VAT: 12 000 € committed, above the 10 000 € ceiling the team would like to set.
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 1_000_000), reader: p.admin)
            _ = try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin)
            let etag2 = try #require(try await client.send(.get, path, token: p.admin).etag)
            let lowered = try await client.send(
                .patch, path, token: p.admin, json: ["support_ceiling_cents": 1_000_000], headers: [.ifMatch: etag2])
            #expect(lowered.status == .unprocessableContent)
            #expect((lowered.body["errors"] as? [[String: Any]])?.first?["code"] as? String == "ceiling_below_committed")
        }
    }

    @Test func aFramingNoteLinksOnlyItsOwnLaureatesFramingNoteDocument() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let document = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=framing_note&file_name=note.pdf", token: laureate.token, bytes: pdf)
            let other = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=app.pdf", token: laureate.token, bytes: pdf)
            let body: (String) -> [String: Any] = { ["needs": needs, "document_id": $0] }
            let linked = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, json: body(document.body["id"] as! String))
            #expect(linked.status == .created && linked.body["document_id"] as? String == document.body["id"] as? String)
            let wrong = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, json: body(other.body["id"] as! String))
            #expect(wrong.status == .unprocessableContent && wrong.pointers == ["/document_id"])
            let notes = try await client.send(.get, "/v1/laureates/\(laureate.id)/framing-notes", token: p.admin)
            #expect((notes.body["items"] as? [Any])?.count == 1)
        }
    }
}

@Suite("Leaving a pool, seen offline")
struct LeavingAPITests {
    @Test func aLaureateThatLeavesAPoolGetsATombstoneAndLosesSightOfTheMission() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            for laureate in p.laureates { try await client.note(laureate) }
            let leaver = p.laureates[2]
            let mission = try #require(
                try await client.send(
                    .post, "/v1/missions", token: p.laureates[0].token,
                    json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": p.laureates.map(\.id)]
                ).body["id"] as? String)
            let seen = try await client.send(.get, "/v1/missions", token: leaver.token)
            let cursor = try #require(seen.body["next_cursor"] as? String)
            #expect((seen.body["items"] as? [Any])?.count == 1 && (seen.body["removed"] as? [Any])?.isEmpty == true)
            try await client.join(mission, p.laureates.dropFirst(), reader: p.admin)
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 250_000), reader: p.admin)
            let left = try await client.step(mission, leaver.token, ["action": "leave"], reader: p.admin)
            #expect(left.status == .ok)
            let remaining = try await client.send(.get, "/v1/missions/\(mission)", token: p.laureates[0].token)
            #expect(remaining.body["state"] as? String == "scoping" && (remaining.body["participants"] as? [Any])?.count == 2)
            #expect(try await client.send(.get, "/v1/missions/\(mission)", token: leaver.token).status == .notFound)
            let delta = try await client.send(.get, "/v1/missions?updated_after=\(cursor)", token: leaver.token)
            #expect((delta.body["items"] as? [Any])?.isEmpty == true && delta.body["removed"] as? [String] == [mission])
            let alone = try await client.step(mission, p.laureates[1].token, ["action": "leave"], reader: p.admin)
            #expect(alone.status == .ok)
            let last = try await client.step(mission, p.laureates[0].token, ["action": "leave"], reader: p.admin)
            #expect(last.status == .conflict && last.code == "not_pooled")
        }
    }
}
