import Domain
import Foundation
import HTTPTypes
import Storage
import Testing

/// Suggestions through the contract: the experts that answer a laureate's framing note, with their reasons, for its
/// members and the team only; candidate pools for the team.
@Suite("Suggestions: experts for a laureate, pools for the team")
struct SuggestionsEndpointTests {
    static var loireNeeds: [[String: Any]] {
        [
            ["subtheme": "4.2", "priority": "high", "description": "Consolider le modèle économique"],
            ["subtheme": "6.1", "priority": "medium", "description": "Choisir les machines"],
        ]
    }

    func token(_ database: AppDatabase, _ account: Account) throws -> String {
        try database.createPersonalToken(for: account, name: "test", days: 30).secret
    }

    @Test func aLaureateSeesTheExpertsThatAnswerItsFramingNoteBestFirstWithTheirReasons() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        // Besides Claire Martin and Paul Autre (4.2, région 84): one next door on both needs, one in conflict with the
        // laureate, one not published, one on nothing the laureate needs.
        let nextDoor = try p.database.importExpert(
            sampleCard(
                first: "Léa", last: "Voisin", email: "lea@voisin.fr", subthemes: ["4.2", "6.1"],
                coverage: Coverage(departmentCodes: ["42"]),
                publication: .init(email: true, phone: false, website: false)), state: .published)
        let conflicted = try p.database.importExpert(
            sampleCard(first: "Marc", last: "Lié", email: "marc@lie.fr", subthemes: ["4.2"], coverage: Coverage(departmentCodes: ["42"])),
            state: .published)
        _ = try p.database.importExpert(
            sampleCard(first: "Zoé", last: "Brouillon", email: "zoe@brouillon.fr", subthemes: ["4.2"]), state: .submitted)
        _ = try p.database.importExpert(
            sampleCard(first: "Hors", last: "Sujet", email: "hors@sujet.fr", subthemes: ["1.1"], coverage: Coverage(national: true)),
            state: .published)
        let sync = try token(
            p.database, try p.database.createAccount(email: "sync@ftl.fr", password: nil, role: .sync, displayName: "Sync"))
        try await makeApplication(database: p.database).test(.router) { client in
            let path = "/v1/laureates/\(laureate.id)/suggested-experts"
            // Before any framing note: nothing to answer, and no version.
            let before = try await client.send(.get, path, token: laureate.token)
            #expect(before.status == .ok && (before.body["items"] as? [Any])?.isEmpty == true)
            #expect(before.body["framing_note_version"] == nil && before.body["has_more"] as? Bool == false)

            let recorded = try await client.send(
                .post, "/v1/conflicts", token: p.admin,
                json: ["expert_id": conflicted.expertID, "laureate_id": laureate.id, "reason": "Ancien salarié"])
            #expect(recorded.status == .noContent)
            let noted = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, json: ["needs": Self.loireNeeds])
            #expect(noted.status == .created)

            for reader in [laureate.token, p.admin] {
                let reply = try await client.send(.get, path, token: reader)
                #expect(reply.status == .ok && reply.body["framing_note_version"] as? Int == 1)
                let items = try #require(reply.body["items"] as? [[String: Any]])
                let names = items.compactMap { ($0["expert"] as? [String: Any])?["last_name"] as? String }
                // Léa Voisin: 30 + 20 + 15 (département) + 3; the two others: 30 + 10 (région) + 3; by id between them.
                #expect(names.first == "Voisin" && Set(names.dropFirst()) == ["Martin", "Autre"] && names.count == 3)
                let first = try #require(items.first)
                #expect(first["score"] as? Int == 68)
                let reasons = try #require(first["reasons"] as? [[String: Any]])
                #expect(
                    reasons.compactMap { $0["code"] as? String } == [
                        "covers_need", "covers_need", "same_department", "productive_experience",
                    ])
                #expect(reasons.first?["subtheme"] as? String == "4.2" && reasons.first?["priority"] as? String == "high")
                #expect(reasons.reduce(0) { $0 + ($1["points"] as? Int ?? 0) } == 68)
                // Only what the directory shows: Léa agreed to show her e-mail, not her phone.
                let expert = try #require(first["expert"] as? [String: Any])
                #expect(
                    expert["email"] as? String == "lea@voisin.fr" && expert["phone"] == nil
                        && expert["expert_id"] as? String == nextDoor.expertID)
                #expect(items.dropFirst().allSatisfy { $0["score"] as? Int == 43 })
            }

            // Pages follow the rank without repeating anyone.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.send(.get, path + "?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), token: laureate.token)
                #expect(page.status == .ok)
                seen += (page.body["items"] as? [[String: Any]] ?? []).compactMap {
                    ($0["expert"] as? [String: Any])?["expert_id"] as? String
                }
                cursor = page.body["has_more"] as? Bool == true ? page.body["next_cursor"] as? String : nil
            } while cursor != nil && seen.count < 10
            #expect(seen.count == 3 && Set(seen).count == 3 && seen.first == nextDoor.expertID)
            #expect(try await client.send(.get, path + "?cursor=forged", token: laureate.token).code == "invalid_parameter")

            // Nobody else: another laureate and the experts do not learn it exists; the sync is refused; no account is 401.
            #expect(try await client.send(.get, path, token: p.laureates[1].token).status == .notFound)
            #expect(try await client.send(.get, path, token: p.expert).status == .notFound)
            #expect(try await client.send(.get, path, token: sync).status == .forbidden)
            #expect(try await client.send(.get, path).status == .unauthorized)
            #expect(try await client.send(.get, "/v1/laureates/nope/suggested-experts", token: p.admin).status == .notFound)
        }
    }

    @Test func theTeamSeesLaureatesOfOneRegionSharingANeed() async throws {
        let p = try Programme.make()
        let grenoble = try p.database.createLaureate(
            name: "Manufacture iséroise", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "38185", communeName: "Grenoble",
            departmentCode: "38", territoryTypes: [.smallOrMediumTown], cohort: 1, sectors: ["textile"], supportCeilingCents: 1_000_000,
            settings: .manufacturesDeProximite)
        let lille = try p.database.createLaureate(
            name: "Manufacture lilloise", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "59350", communeName: "Lille",
            departmentCode: "59", territoryTypes: [.smallOrMediumTown], cohort: 1, sectors: ["textile"], supportCeilingCents: 1_000_000,
            settings: .manufacturesDeProximite)
        try await makeApplication(database: p.database).test(.router) { client in
            let notes: [(String, String, [[String: Any]])] = [
                (p.laureates[0].id, p.laureates[0].token, Self.loireNeeds),
                (p.laureates[1].id, p.laureates[1].token, [["subtheme": "4.2", "priority": "low", "description": "Tarifs"]]),
                (
                    grenoble.id, p.admin,
                    [
                        ["subtheme": "4.2", "priority": "high", "description": "Modèle"],
                        ["subtheme": "6.1", "priority": "low", "description": "Machines"],
                    ]
                ),
                (lille.id, p.admin, [["subtheme": "4.2", "priority": "high", "description": "Modèle"]]),
            ]
            for (id, token, needs) in notes {
                #expect(
                    try await client.send(.post, "/v1/laureates/\(id)/framing-notes", token: token, json: ["needs": needs]).status
                        == .created)
            }
            let reply = try await client.send(.get, "/v1/pool-candidates", token: p.admin)
            #expect(reply.status == .ok && reply.body["has_more"] as? Bool == false)
            let items = try #require(reply.body["items"] as? [[String: Any]])
            // Région 84 (Loire, Isère): 4.2 for three laureates, then 6.1 for two; Lille is alone in its région.
            #expect(items.map { "\($0["region"] ?? "")/\($0["subtheme"] ?? "")" } == ["84/4.2", "84/6.1"])
            let first = try #require(items.first?["laureates"] as? [[String: Any]])
            #expect(first.count == 3 && items.first?["high_priority"] as? Int == 2)
            let priorities = Dictionary(
                uniqueKeysWithValues: first.compactMap { l in (l["id"] as? String).map { ($0, l["priority"] as? String ?? "") } })
            #expect(priorities == [p.laureates[0].id: "high", p.laureates[1].id: "low", grenoble.id: "high"])
            #expect(first.contains { $0["name"] as? String == "Manufacture iséroise" && $0["department"] as? String == "38" })

            let narrowed = try await client.send(.get, "/v1/pool-candidates?region=32", token: p.admin)
            #expect(narrowed.status == .ok && (narrowed.body["items"] as? [Any])?.isEmpty == true)
            let paged = try await client.send(.get, "/v1/pool-candidates?limit=1", token: p.admin)
            let cursor = try #require(paged.body["next_cursor"] as? String)
            let rest = try await client.send(.get, "/v1/pool-candidates?limit=1&cursor=\(cursor)", token: p.admin)
            #expect(
                (rest.body["items"] as? [[String: Any]])?.first?["subtheme"] as? String == "6.1" && rest.body["has_more"] as? Bool == false)
            let unknown = try await client.send(.get, "/v1/pool-candidates?region=99", token: p.admin)
            #expect(unknown.status == .badRequest && unknown.code == "invalid_parameter" && unknown.pointers == ["/region"])

            #expect(try await client.send(.get, "/v1/pool-candidates", token: p.laureates[0].token).status == .forbidden)
            #expect(try await client.send(.get, "/v1/pool-candidates", token: p.expert).status == .forbidden)
            #expect(try await client.send(.get, "/v1/pool-candidates").status == .unauthorized)
        }
    }
}
