import Domain
import Foundation
import HTTPTypes
import Storage
import Testing

/// RGPD self-service through the contract: a person downloads what is held about them, and has it erased; the
/// programme's records stay, pseudonymised, and the audit chain still verifies.
@Suite("Personal data: download and erasure")
struct PersonalDataTests {
    /// A password login's token: only those may erase.
    static func session(_ client: some TestClientProtocol, _ email: String) async throws -> String {
        let reply = try await client.send(.post, "/v1/auth/token", json: ["email": email, "password": Programme.password])
        return try #require(reply.body["token"] as? String)
    }

    @Test func anExpertDownloadsEverythingHeldAboutThemNeverASecret() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "Modèle économique")
            let recorded = try await client.send(
                .post, "/v1/conflicts", token: p.admin,
                json: ["expert_id": p.expertID, "laureate_id": p.laureates[2].id, "reason": "Sa sœur préside l'association"])
            #expect(recorded.status == .noContent)
            let reply = try await client.send(.get, "/v1/me/data", token: p.expert)
            #expect(reply.status == .ok && reply.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(reply.headers[.cacheControl] == "no-store")
            #expect((reply.body["conflicts"] as? [[String: Any]])?.first?["reason"] as? String == "Sa sœur préside l'association")
            #expect(reply.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"mes-donnees-2023-06-01.json\"") == true)
            let data = reply.body
            #expect(data["format"] as? String == "mdp-personal-data/1")
            #expect((data["account"] as? [String: Any])?["email"] as? String == "claire@conseil.fr")
            // The whole card as held: the phone she did not publish is hers to see.
            let card = try #require(data["expert_card"] as? [String: Any])
            let contact = (card["content"] as? [String: Any])?["contact"] as? [String: Any]
            #expect(contact?["phone"] as? String == "06 12 34 56 78" && card["state"] as? String == "published")
            let missions = try #require(data["missions"] as? [[String: Any]])
            #expect(missions.map { $0["id"] as? String } == [mission] && missions.first?["role"] as? String == "expert")
            #expect((data["tokens"] as? [[String: Any]])?.isEmpty == false)
            #expect(!String(decoding: reply.data, as: UTF8.self).contains(p.expert))  // never a token's secret
            #expect((data["events"] as? [[String: Any]])?.contains { $0["action"] as? String == "expert.imported" } == true)

            // A member: their laureate, the note they wrote, the mission they asked for.
            let member = try await client.send(.get, "/v1/me/data", token: laureate.token).body
            #expect((member["laureate"] as? [String: Any])?["name"] as? String == "Manufacture 1")
            #expect((member["framing_notes"] as? [[String: Any]])?.count == 1)
            #expect((member["missions"] as? [[String: Any]])?.first?["role"] as? String == "requester")
            #expect(member["expert_card"] == nil)
            #expect(try await client.send(.get, "/v1/me/data").status == .unauthorized)
        }
    }

    @Test func anErasedExpertLeavesEveryListingAndLoginWhileItsMissionsStayPseudonymised() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "Modèle économique")
            #expect(try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin).status == .ok)
            // A CRM follows the missions: its deliveries carry the mission as it was, expert included.
            let subscribed = try await client.send(
                .post, "/v1/webhook-subscriptions", token: p.admin,
                json: ["url": "https://crm.reseau.example.org/hooks", "event_types": ["mission.accepted", "mission.reviewed"]])
            #expect(subscribed.status == .created)

            // A request with an Idempotency-Key, declined since: its stored reply shows the expert.
            let keyed = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "Gardée", "expert_id": p.expertID, "laureate_ids": [laureate.id]], headers: [.idempotencyKey: "k-1"])
            let keyedID = try #require(keyed.body["id"] as? String)
            #expect(String(decoding: keyed.data, as: UTF8.self).contains("Claire"))
            #expect(
                try await client.step(keyedID, p.expert, ["action": "decline", "comment": "Pas disponible"], reader: p.admin).status == .ok)

            // An integration's personal token may not erase; her password login may, once nothing runs.
            let integration = try await client.send(.post, "/v1/me/erasure", token: p.expert, json: ["confirm_email": "claire@conseil.fr"])
            #expect(integration.status == .forbidden && integration.code == "session_required")
            let claire = try await Self.session(client, "claire@conseil.fr")
            // A running mission: the programme must still reach her.
            let waiting = try await client.send(.post, "/v1/me/erasure", token: claire, json: ["confirm_email": "claire@conseil.fr"])
            #expect(waiting.status == .conflict && waiting.code == "missions_in_progress")
            #expect((waiting.body["detail"] as? String)?.contains("2023-0001") == true)
            let mistyped = try await client.send(.post, "/v1/me/erasure", token: claire, json: ["confirm_email": "autre@conseil.fr"])
            #expect(mistyped.status == .unprocessableContent && mistyped.pointers == ["/confirm_email"])

            // Once it ended (closed here), she may go.
            #expect(try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin).status == .ok)
            #expect(try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin).status == .ok)
            #expect(try await client.step(mission, p.expert, reportBody, reader: p.admin).status == .ok)
            #expect(try await client.step(mission, laureate.token, reviewBody, reader: p.admin).body["state"] as? String == "closed")
            let queued = try await client.send(.get, "/v1/webhook-deliveries?limit=100", token: p.admin).body["items"] as? [[String: Any]]
            #expect(queued?.filter { $0["subject_id"] as? String == mission }.count == 2)
            let before = try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token).etag
            let erased = try await client.send(.post, "/v1/me/erasure", token: claire, json: ["confirm_email": "Claire@Conseil.fr"])
            #expect(erased.status == .ok && erased.body["pseudonym"] as? String == "Expert supprimé n°1")

            // Gone: the token, the directory, the team's list, the card itself.
            #expect(try await client.send(.get, "/v1/me", token: p.expert).status == .unauthorized)
            #expect(try await client.send(.get, "/v1/me", token: claire).status == .unauthorized)
            let directory = try await client.send(.get, "/v1/directory/experts?q=martin").body["items"] as? [Any]
            #expect(directory?.isEmpty == true)
            let cards = try await client.send(.get, "/v1/experts?limit=100", token: p.admin).body["items"] as? [[String: Any]] ?? []
            #expect(!cards.contains { $0["id"] as? String == p.expertID } && cards.count == 1)
            #expect(try await client.send(.get, "/v1/experts/\(p.expertID)", token: p.admin).status == .notFound)

            // Kept, pseudonymised: the mission, its amounts, the budget, the exports.
            let seen = try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token)
            #expect(seen.etag != before)  // a new revision: offline copies read the pseudonym
            let expert = try #require(seen.body["expert"] as? [String: Any])
            #expect(expert["first_name"] as? String == "Expert supprimé" && expert["last_name"] as? String == "n°1")
            #expect(
                expert["email"] == nil && expert["phone"] == nil && expert["website"] == nil && expert["organisation_name"] as? String == ""
            )
            let budget = try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: laureate.token)
            #expect(budget.body["spent_cents"] as? Int == 600_000)
            let export = try await client.send(.get, "/v1/exports/missions", token: p.admin)
            let csv = String(decoding: export.data, as: UTF8.self)
            #expect(csv.contains(";Expert supprimé n°1;") && !csv.contains("Martin") && !csv.contains("Claire"))
            let everything = try p.database.debugDumpOfPersonalTables()
            #expect(
                !everything.contains("claire@conseil.fr") && !everything.contains("martin.example.fr")
                    && !everything.contains("Martin Conseil") && !everything.contains("Claire"))

            // Another person's stored reply no longer brings her back.
            let replayed = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "Gardée", "expert_id": p.expertID, "laureate_ids": [laureate.id]], headers: [.idempotencyKey: "k-1"])
            #expect(!String(decoding: replayed.data, as: UTF8.self).contains("Claire"))
            // The member's download holds the review their laureate wrote, ratings by criterion.
            let member = try await client.send(.get, "/v1/me/data", token: laureate.token).body
            let review = (member["missions"] as? [[String: Any]])?.first { $0["id"] as? String == mission }.flatMap {
                ($0["reviews"] as? [[String: Any]])?.first
            }
            #expect((review?["ratings"] as? [String: Any])?["expertise"] as? Int == 5)

            // No delivery about her missions is kept, sent or replayed any more.
            let deliveries =
                try await client.send(.get, "/v1/webhook-deliveries?limit=100", token: p.admin).body["items"] as? [[String: Any]]
            #expect(deliveries?.contains { $0["subject_id"] as? String == mission } == false)

            // The chain holds: nothing of it was rewritten, the erasure was appended.
            guard case .intact(let events) = try p.database.verifyAuditChain() else {
                Issue.record("the audit chain no longer verifies")
                return
            }
            #expect(events > 10)
            let log = try await client.send(.get, "/v1/events?action=account.erased", token: p.admin).body["items"] as? [[String: Any]]
            #expect(log?.count == 1)
        }
    }

    @Test func theRetentionPolicyRemovesWhatIsNoRecordAndErasesAbandonedSignUps() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let signUp = try await client.send(
                .post, "/v1/experts",
                json: ["email": "oubli@exemple.fr", "password": "un long mot de passe", "first_name": "Léon", "last_name": "Oubli"])
            #expect(signUp.status == .created)
            let wrong = try await client.send(.post, "/v1/auth/token", json: ["email": "equipe@ftl.fr", "password": "pas le bon"])
            #expect(wrong.status == .unauthorized)
            // Within every period nothing goes.
            #expect(try p.database.purge(RetentionPolicy()).total == 0)

            p.clock.advance(by: 400 * 86_400)
            let report = try p.database.purge(RetentionPolicy())
            #expect(report.loginFailures == 1 && report.draftCards == 1 && report.tokens >= 5, "\(report)")
            #expect(!(try p.database.debugDumpOfPersonalTables()).contains("oubli@exemple.fr"))
            let login = try await client.send(
                .post, "/v1/auth/token", json: ["email": "oubli@exemple.fr", "password": "un long mot de passe"])
            #expect(login.status == .unauthorized)
            // Published experts and their missions are untouched; the chain holds; a second pass finds nothing.
            #expect(try p.database.directoryIndex().count == 2)
            guard case .intact = try p.database.verifyAuditChain() else {
                Issue.record("the audit chain no longer verifies")
                return
            }
            #expect(try p.database.purge(RetentionPolicy()).total == 0)
        }
    }

    @Test func aSignedUpExpertAndAMemberEraseThemselvesAndNobodyElseMay() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let signUp = try await client.send(
                .post, "/v1/experts",
                json: ["email": "neo@exemple.fr", "password": "un long mot de passe", "first_name": "Néo", "last_name": "Roux"])
            let token = try #require((signUp.body["session"] as? [String: Any])?["token"] as? String)
            #expect(try await client.send(.post, "/v1/me/erasure", token: token, json: ["confirm_email": "neo@exemple.fr"]).status == .ok)
            let login = try await client.send(
                .post, "/v1/auth/token", json: ["email": "neo@exemple.fr", "password": "un long mot de passe"])
            #expect(login.status == .unauthorized)
            // The address is free again: the person may come back as someone new.
            let again = try await client.send(
                .post, "/v1/experts",
                json: ["email": "neo@exemple.fr", "password": "un long mot de passe", "first_name": "Néo", "last_name": "Roux"])
            #expect(again.status == .created)

            let member = p.laureates[1]
            let memberSession = try await Self.session(client, "membre2@manufacture.fr")
            let gone = try await client.send(
                .post, "/v1/me/erasure", token: memberSession, json: ["confirm_email": "membre2@manufacture.fr"])
            #expect(gone.status == .ok && gone.body["pseudonym"] as? String == "Membre supprimé n°2")
            #expect(try await client.send(.get, "/v1/laureates/\(member.id)", token: p.admin).status == .ok)  // the laureate stays
            #expect(
                try await client.send(.post, "/v1/me/erasure", token: p.admin, json: ["confirm_email": "equipe@ftl.fr"]).status
                    == .forbidden)

            // Nobody may take an erased account's address or its pseudonymous slug ahead of time.
            let squatter = try await client.send(
                .post, "/v1/experts",
                json: ["email": "supprime-3@efface.invalid", "password": "un long mot de passe", "first_name": "A", "last_name": "B"])
            #expect(squatter.status == .unprocessableContent)
            // Nor a name that reads as a pseudonym (whatever its case, accents or spacing).
            for (first, last) in [("Expert", "Supprime 4"), ("expert  SUPPRIMÉ", "n°9"), ("Zoé", "Membre-supprimé")] {
                let imitator = try await client.send(
                    .post, "/v1/experts",
                    json: ["email": "squat@exemple.fr", "password": "un long mot de passe", "first_name": first, "last_name": last])
                #expect(imitator.status == .unprocessableContent && imitator.pointers == ["/last_name"], "\(first) \(last)")
            }
            let third = try await client.send(
                .post, "/v1/me/erasure", token: try await Self.session(client, "membre3@manufacture.fr"),
                json: ["confirm_email": "membre3@manufacture.fr"])
            #expect(third.status == .ok && third.body["pseudonym"] as? String == "Membre supprimé n°3")
            // The fourth erasure is an expert's, under the next pseudonym.
            let zoe = try await client.send(
                .post, "/v1/experts",
                json: ["email": "zoe@exemple.fr", "password": "un long mot de passe", "first_name": "Zoé", "last_name": "Brun"])
            let zoeToken = try #require((zoe.body["session"] as? [String: Any])?["token"] as? String)
            let fourth = try await client.send(.post, "/v1/me/erasure", token: zoeToken, json: ["confirm_email": "zoe@exemple.fr"])
            #expect(fourth.status == .ok && fourth.body["pseudonym"] as? String == "Expert supprimé n°4")
            #expect(try await client.send(.post, "/v1/me/erasure", json: ["confirm_email": "x@y.fr"]).status == .unauthorized)
        }
    }

    /// Someone who asks by letter or e-mail, or no longer has access, is erased by the programme team: the same erasure,
    /// the team member named as its actor, on the card as the team last read it (If-Match).
    @Test func theTeamErasesAnExpertWhoAskedByOtherMeans() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "Modèle économique")
            let uri = "/v1/experts/\(p.expertID)/erasure"
            let read = try await client.send(.get, "/v1/experts/\(p.expertID)", token: p.admin)
            #expect(try await client.send(.post, uri).status == .unauthorized)
            #expect(try await client.send(.post, uri, token: p.expert, headers: [.ifMatch: read.etag ?? ""]).status == .forbidden)
            #expect(try await client.send(.post, uri, token: laureate.token, headers: [.ifMatch: read.etag ?? ""]).status == .notFound)
            #expect(try await client.send(.post, uri, token: p.admin).status == .preconditionRequired)
            #expect(try await client.send(.post, uri, token: p.admin, headers: [.ifMatch: "\"r999999\""]).status == .preconditionFailed)
            // A mission under way: it must end first, as for the person's own request.
            let waiting = try await client.send(.post, uri, token: p.admin, headers: [.ifMatch: read.etag ?? ""])
            #expect(waiting.status == .conflict && waiting.code == "missions_in_progress")
            _ = try await client.step(mission, p.expert, ["action": "decline", "comment": "Indisponible"], reader: p.admin)

            let current = try await client.send(.get, "/v1/experts/\(p.expertID)", token: p.admin)
            let erased = try await client.send(.post, uri, token: p.admin, headers: [.ifMatch: current.etag ?? ""])
            #expect(erased.status == .ok && erased.body["pseudonym"] as? String == "Expert supprimé n°1", "\(erased.body)")
            #expect(try await client.send(.get, "/v1/me", token: p.expert).status == .unauthorized)
            #expect(try await client.send(.get, "/v1/experts/\(p.expertID)", token: p.admin).status == .notFound)
            #expect(try await client.send(.post, uri, token: p.admin, headers: [.ifMatch: "*"]).status == .notFound)
            let events = try await client.send(.get, "/v1/events?action=expert.erased", token: p.admin).body["items"] as? [[String: Any]]
            let actor = events?.first?["actor"] as? [String: Any]
            #expect(events?.count == 1 && actor?["role"] as? String == "admin")
            #expect(!(try p.database.debugDumpOfPersonalTables()).contains("claire@conseil.fr"))
            guard case .intact = try p.database.verifyAuditChain() else {
                Issue.record("the audit chain no longer verifies")
                return
            }
        }
    }
}
