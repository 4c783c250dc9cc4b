import Domain
import Foundation
import HTTPTypes
import Storage
import Testing

/// The programme as people walk it, through the API only: from the public directory to a request, who is who on a
/// mission, the team around a laureate, its dossier by kind, and what happened, in the team's filtered event log.
@Suite("The programme as people walk it")
struct WalkTests {
    @Test func aLaureateFindsAnExpertInTheDirectoryAndTheTeamReadsItAllInTheEventLog() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            // The directory entry carries the expert's id and only the contact it agreed to publish (the website).
            let found = try await client.send(.get, "/v1/directory/experts?q=martin")
            let entries = try #require(found.body["items"] as? [[String: Any]])
            let entry = try #require(entries.first { $0["last_name"] as? String == "Martin" })
            let expertID = try #require(entry["expert_id"] as? String)
            #expect(expertID == p.expertID)
            #expect(entry["website"] as? String == "https://martin.example.fr" && entry["email"] == nil && entry["phone"] == nil)

            // The laureate requests a mission from it with that id; the 201 carries the ETag of what it created.
            try await client.note(laureate)
            let created = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "Modèle économique", "expert_id": expertID, "laureate_ids": [laureate.id]])
            #expect(created.status == .created && created.etag != nil)
            let mission = try #require(created.body["id"] as? String)

            // The expert learns who asks: the laureate's public profile, not its dossier.
            let seen = try await client.send(.get, "/v1/missions/\(mission)", token: p.expert)
            let participant = try #require((seen.body["participants"] as? [[String: Any]])?.first)
            let profile = try #require(participant["laureate"] as? [String: Any])
            #expect(profile["name"] as? String == "Manufacture 1" && profile["commune_name"] as? String == "Saint-Étienne")
            #expect(profile["department"] as? String == "42" && profile["territory_types"] as? [String] == ["rural"])
            #expect(profile["sectors"] as? [String] == ["bois"] && profile["cohort"] as? Int == 1)
            #expect(profile["support_ceiling_cents"] == nil && profile["siret"] == nil)
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)", token: p.expert).status == .notFound)
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)/documents", token: p.expert).status == .notFound)

            // The laureate sees who the expert is; its e-mail and phone only once it agreed to discuss.
            let requested = try #require(
                try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token).body["expert"] as? [String: Any])
            #expect(requested["first_name"] as? String == "Claire" && requested["organisation_name"] as? String == "Martin Conseil")
            #expect(
                requested["email"] == nil && requested["phone"] == nil && requested["website"] as? String == "https://martin.example.fr")
            #expect(try await client.send(.get, "/v1/missions/\(mission)/documents", token: p.expert).status == .forbidden)
            #expect(try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin).status == .ok)
            let scoping = try #require(
                try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token).body["expert"] as? [String: Any])
            #expect(scoping["email"] as? String == "claire@conseil.fr" && scoping["phone"] as? String == "06 12 34 56 78")

            // A second expert engaged with the same laureate: the team around the laureate, names and titles, no amounts.
            let otherID = try #require(
                try await client.send(.get, "/v1/directory/experts?q=paul").body["items"].flatMap { $0 as? [[String: Any]] }?.first?[
                    "expert_id"]
                    as? String)
            let second = try #require(
                try await client.send(
                    .post, "/v1/missions", token: laureate.token,
                    json: ["title": "Communication", "expert_id": otherID, "laureate_ids": [laureate.id]]
                ).body["id"] as? String)
            let teamPath = "/v1/laureates/\(laureate.id)/team"
            #expect(try await client.send(.get, teamPath, token: p.otherExpert).status == .notFound)  // not engaged yet
            #expect(try await client.step(second, p.otherExpert, ["action": "scope"], reader: p.admin).status == .ok)
            for reader in [p.expert, p.otherExpert, laureate.token, p.admin] {
                let team = try await client.send(.get, teamPath, token: reader)
                #expect(team.status == .ok && team.body["has_more"] as? Bool == false)
                let members = try #require(team.body["items"] as? [[String: Any]])
                #expect(members.count == 2)
                let names = members.compactMap { ($0["expert"] as? [String: Any])?["last_name"] as? String }
                #expect(names == ["Martin", "Autre"])
                let titles = members.flatMap { ($0["missions"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String } }
                #expect(titles == ["Modèle économique", "Communication"])
                #expect(!String(decoding: team.data, as: UTF8.self).contains("cents"))
            }
            #expect(try await client.send(.get, teamPath, token: p.laureates[1].token).status == .notFound)
            let firstPage = try await client.send(.get, teamPath + "?limit=1", token: p.admin)
            #expect(firstPage.body["has_more"] as? Bool == true)
            let cursor = try #require(firstPage.body["next_cursor"] as? String)
            let secondPage = try await client.send(.get, teamPath + "?limit=1&cursor=\(cursor)", token: p.admin)
            #expect((secondPage.body["items"] as? [[String: Any]])?.count == 1 && secondPage.body["has_more"] as? Bool == false)
            #expect(try await client.send(.get, teamPath + "?cursor=forged", token: p.admin).code == "invalid_parameter")

            // The dossier by kind, for the engaged expert; a mission's files for its people.
            for (kind, name) in [
                ("application", "candidature.pdf"), ("post_incubation", "post-incubation.pdf"), ("application", "annexe.pdf"),
            ] {
                let uploaded = try await client.upload(
                    "/v1/laureates/\(laureate.id)/documents?kind=\(kind)&file_name=\(name)", token: laureate.token, bytes: pdf)
                #expect(uploaded.status == .created && uploaded.etag != nil)
            }
            let applications = try await client.send(.get, "/v1/laureates/\(laureate.id)/documents?kind=application", token: p.expert)
            #expect(applications.status == .ok)
            #expect(
                (applications.body["items"] as? [[String: Any]])?.compactMap { $0["file_name"] as? String } == [
                    "annexe.pdf", "candidature.pdf",
                ])
            let dossier = try await client.send(.get, "/v1/laureates/\(laureate.id)/documents?limit=2", token: laureate.token)
            #expect((dossier.body["items"] as? [[String: Any]])?.count == 2 && dossier.body["has_more"] as? Bool == true)
            let rest = try await client.send(
                .get, "/v1/laureates/\(laureate.id)/documents?limit=2&cursor=\(try #require(dossier.body["next_cursor"] as? String))",
                token: laureate.token)
            #expect((rest.body["items"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["post_incubation"])
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)/documents", token: p.laureates[1].token).status == .notFound)
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)/documents?kind=nope", token: p.admin).status == .badRequest)
            _ = try await client.upload(
                "/v1/missions/\(mission)/documents?kind=deliverable&file_name=atelier.pdf", token: p.expert, bytes: pdf)
            let files = try await client.send(.get, "/v1/missions/\(mission)/documents", token: laureate.token)
            #expect((files.body["items"] as? [[String: Any]])?.compactMap { $0["file_name"] as? String } == ["atelier.pdf"])
            #expect(try await client.send(.get, "/v1/missions/\(mission)/documents", token: p.otherExpert).status == .notFound)

            // … the proposal, its acceptance, the report; the review closes it.
            #expect(try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin).status == .ok)
            #expect(try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin).status == .ok)
            #expect(try await client.step(mission, p.expert, reportBody, reader: p.admin).status == .ok)
            let closed = try await client.step(mission, laureate.token, reviewBody, reader: p.admin)
            #expect(closed.body["state"] as? String == "closed")

            // The team adds a member to the laureate: that event names the team as its actor.
            let member = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/members", token: p.admin,
                json: ["email": "nouveau@manufacture.fr", "display_name": "Nouveau"])
            let memberID = try #require(member.body["id"] as? String)

            // The team reads it all in the filtered event log.
            let timeline = try await client.send(
                .get, "/v1/events?laureate_id=\(laureate.id)&action=mission.&subject_id=\(mission)", token: p.admin)
            let steps = try #require(timeline.body["items"] as? [[String: Any]])
            #expect(
                steps.compactMap { $0["action"] as? String }
                    == ["mission.requested", "mission.scope", "mission.propose", "mission.accept", "mission.report", "mission.review"])
            let actors = steps.compactMap { $0["actor"] as? [String: Any] }
            #expect(actors.compactMap { $0["role"] as? String } == ["laureate", "expert", "expert", "laureate", "expert", "laureate"])
            #expect(actors.first?["display_name"] as? String == "Membre 1")
            let newest = try await client.send(.get, "/v1/events?laureate_id=\(laureate.id)&order=desc&limit=1", token: p.admin)
            let last = try #require((newest.body["items"] as? [[String: Any]])?.first)
            #expect(last["action"] as? String == "account.created" && last["subject_id"] as? String == memberID)
            #expect((last["actor"] as? [String: Any])?["role"] as? String == "admin" && newest.body["has_more"] as? Bool == true)
            // Newest first, page after page, without a repeat or a gap.
            var seqs: [Int] = []
            var next: String?
            repeat {
                let page = try await client.send(
                    .get, "/v1/events?laureate_id=\(laureate.id)&order=desc&limit=3" + (next.map { "&cursor=\($0)" } ?? ""), token: p.admin)
                seqs += (page.body["items"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
                next = page.body["has_more"] as? Bool == true ? page.body["next_cursor"] as? String : nil
            } while next != nil
            #expect(seqs == seqs.sorted(by: >) && Set(seqs).count == seqs.count && seqs.count > steps.count)
            // Another laureate's timeline does not hold this one's mission; an expert's holds its missions.
            let others = try await client.send(.get, "/v1/events?laureate_id=\(p.laureates[1].id)", token: p.admin)
            #expect(!(others.body["items"] as? [[String: Any]] ?? []).contains { $0["subject_id"] as? String == mission })
            let byExpert = try await client.send(.get, "/v1/events?expert_id=\(otherID)&subject_type=mission", token: p.admin)
            #expect((byExpert.body["items"] as? [[String: Any]])?.compactMap { $0["subject_id"] as? String } == [second, second])
            // A time window: nothing before the programme's first day, everything since.
            let future = try await client.send(.get, "/v1/events?since=2100-01-01T00:00:00Z", token: p.admin)
            #expect((future.body["items"] as? [[String: Any]])?.isEmpty == true)
            let past = try await client.send(.get, "/v1/events?until=2000-01-01T00:00:00Z", token: p.admin)
            #expect((past.body["items"] as? [[String: Any]])?.isEmpty == true)
            let window = try await client.send(.get, "/v1/events?since=2100-01-01T00:00:00Z&until=2000-01-01T00:00:00Z", token: p.admin)
            #expect(window.status == .badRequest && window.pointers == ["/until"])
            // The team only; the mission's people read the mission's own timeline, newest first on request.
            #expect(try await client.send(.get, "/v1/events", token: laureate.token).status == .forbidden)
            let own = try await client.send(.get, "/v1/missions/\(mission)/events?order=desc&limit=2", token: laureate.token)
            #expect((own.body["items"] as? [[String: Any]])?.first?["action"] as? String == "mission.review")
            #expect(own.body["has_more"] as? Bool == true)
        }
    }
}

@Suite("One convention for lists")
struct ListConventionTests {
    /// Pages through `path` one item at a time: every page says `has_more`, the cursor leads on without a repeat or
    /// a gap, and the items are those of the whole list.
    func walk(_ client: some TestClientProtocol, _ path: String, token: String?, id: String = "id") async throws -> [String] {
        let whole = try await client.send(.get, path + (path.contains("?") ? "&" : "?") + "limit=100", token: token)
        #expect(whole.status == .ok, "\(path)")
        #expect(whole.body["has_more"] as? Bool == false, "\(path)")
        let all = (whole.body["items"] as? [[String: Any]] ?? []).compactMap { $0[id] as? String }
        var seen: [String] = []
        var cursor: String?
        for _ in 0...all.count {
            let page = try await client.send(
                .get, path + (path.contains("?") ? "&" : "?") + "limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            #expect(page.status == .ok, "\(path)")
            seen += (page.body["items"] as? [[String: Any]] ?? []).compactMap { $0[id] as? String }
            let more = try #require(page.body["has_more"] as? Bool, "\(path) has no has_more")
            guard more else { break }
            cursor = try #require(page.body["next_cursor"] as? String, "\(path) has more but no next_cursor")
        }
        #expect(seen == all, "\(path)")
        return all
    }

    @Test func everyListPagesWithLimitCursorNextCursorAndHasMore() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            try await client.note(laureate)
            for title in ["Un", "Deux"] { _ = try await client.newMission(p, by: laureate, title: title) }
            for name in ["a.pdf", "b.pdf"] {
                _ = try await client.upload(
                    "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=\(name)", token: laureate.token, bytes: pdf)
            }
            for days in [30, 60] {
                _ = try await client.send(
                    .post, "/v1/me/tokens", token: laureate.token, json: ["name": "jeton \(days)", "expires_in_days": days])
            }
            #expect(try await walk(client, "/v1/laureates", token: p.admin).count == 3)
            #expect(
                try await walk(client, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, id: "created_at").count == 2)
            #expect(try await walk(client, "/v1/me/tokens", token: laureate.token).count >= 2)
            #expect(try await walk(client, "/v1/missions", token: laureate.token).count == 2)
            #expect(try await walk(client, "/v1/documents", token: laureate.token).count == 2)
            #expect(try await walk(client, "/v1/laureates/\(laureate.id)/documents", token: laureate.token).count == 2)
            #expect(try await walk(client, "/v1/directory/experts", token: nil, id: "slug").count == 2)
            #expect(try await walk(client, "/v1/experts", token: p.admin).count == 2)
            #expect(try await walk(client, "/v1/events", token: p.admin, id: "hash").count > 5)
            _ = try await walk(client, "/v1/conflicts", token: p.admin)
            // The delta feeds keep `updated_after` and take `cursor` the same way.
            let byCursor = try await client.send(.get, "/v1/missions?cursor=0", token: laureate.token)
            let byRevision = try await client.send(.get, "/v1/missions?updated_after=0", token: laureate.token)
            #expect(byCursor.data == byRevision.data)
            for path in ["/v1/laureates", "/v1/missions", "/v1/documents", "/v1/events", "/v1/me/tokens"] {
                let forged = try await client.send(.get, path + "?cursor=%C3%A9%00", token: p.admin)
                #expect(forged.status == .badRequest && forged.pointers == ["/cursor"], "\(path)")
            }
        }
    }

    @Test func everyResponseThatReturnsAnEditableResourceCarriesItsETag() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let created = try await client.send(
                .post, "/v1/laureates", token: p.admin,
                json: [
                    "name": "La Manufacture Neuve", "legal_entity": "SCIC", "siret": "44306184100047", "commune_insee": "42218",
                    "commune_name": "Saint-Étienne", "department": "42", "territory_types": ["rural"], "cohort": 2,
                    "support_ceiling_cents": 1_000_000,
                ])
            #expect(created.status == .created)
            let id = try #require(created.body["id"] as? String)
            // The ETag of the 201 is good for the first PATCH, without a GET before it.
            let patched = try await client.send(
                .patch, "/v1/laureates/\(id)", token: p.admin, json: ["name": "La Manufacture Renommée"],
                headers: [.ifMatch: try #require(created.etag)])
            #expect(patched.status == .ok)
            let uploaded = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=a.pdf", token: laureate.token, bytes: pdf)
            let document = try #require(uploaded.body["id"] as? String)
            let withdrawn = try await client.send(
                .delete, "/v1/documents/\(document)", token: laureate.token, headers: [.ifMatch: try #require(uploaded.etag)])
            #expect(withdrawn.status == .ok && withdrawn.etag != nil)
            #expect(try await client.send(.get, "/v1/documents/\(document)", token: laureate.token).etag == withdrawn.etag)
        }
    }
}

@Suite("What an outside tester found walking issue 11")
struct WalkFindingsTests {
    @Test func theExpertNeverLearnsOfAnInvitedLaureateThatDidNotJoinNotEvenFromTheTimeline() async throws {
        let p = try Programme.make()
        let (first, joining, declining) = (p.laureates[0], p.laureates[1], p.laureates[2])
        try await makeApplication(database: p.database).test(.router) { client in
            let created = try await client.send(
                .post, "/v1/missions", token: first.token,
                json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": [first.id, joining.id, declining.id]])
            let mission = try #require(created.body["id"] as? String)
            #expect(try await client.step(mission, joining.token, ["action": "join"], reader: p.admin).status == .ok)
            #expect(try await client.step(mission, declining.token, ["action": "leave"], reader: p.admin).status == .ok)
            let timeline = try await client.send(.get, "/v1/missions/\(mission)/events?limit=100", token: p.expert)
            let actions = (timeline.body["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions == ["mission.requested", "mission.join"])
            #expect(!String(decoding: timeline.data, as: UTF8.self).contains("Membre 3"))
            // Page by page: the steps left out are left out by the query, so no page comes back empty and "more".
            var pages: [[String]] = []
            var cursor: String?
            repeat {
                let page = try await client.send(
                    .get, "/v1/missions/\(mission)/events?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), token: p.expert)
                pages.append((page.body["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String })
                cursor = page.body["has_more"] as? Bool == true ? page.body["next_cursor"] as? String : nil
            } while cursor != nil && pages.count < 10
            #expect(pages == [["mission.requested"], ["mission.join"]])
            // The team and the laureates of the pool still read every step.
            let all = try await client.send(.get, "/v1/missions/\(mission)/events?limit=100", token: p.admin)
            #expect((all.body["items"] as? [[String: Any]])?.count == 3)
        }
    }

    @Test func aTeamPageNeverSkipsAnExpertWhenOneLeavesBetweenPages() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let kept = try await client.newMission(p, by: laureate, title: "Gardée")
            let other = try #require(
                try await client.send(
                    .post, "/v1/missions", token: laureate.token,
                    json: ["title": "Autre", "expert_id": try await otherExpertID(client, p), "laureate_ids": [laureate.id]]
                ).body["id"] as? String)
            #expect(try await client.step(kept, p.expert, ["action": "scope"], reader: p.admin).status == .ok)
            #expect(try await client.step(other, p.otherExpert, ["action": "scope"], reader: p.admin).status == .ok)
            let path = "/v1/laureates/\(laureate.id)/team"
            let firstPage = try await client.send(.get, path + "?limit=1", token: p.admin)
            let cursor = try #require(firstPage.body["next_cursor"] as? String)
            #expect((firstPage.body["items"] as? [[String: Any]])?.count == 1)
            // The first expert's only engagement ends before the second page is read: the second expert still comes.
            #expect(try await client.step(kept, laureate.token, ["action": "cancel"], reader: p.admin).status == .ok)
            let secondPage = try await client.send(.get, path + "?limit=1&cursor=\(cursor)", token: p.admin)
            let names = (secondPage.body["items"] as? [[String: Any]] ?? []).compactMap {
                ($0["expert"] as? [String: Any])?["last_name"] as? String
            }
            #expect(names == ["Autre"])
            #expect(try await client.send(.get, path + "?cursor=W10", token: p.admin).status == .badRequest)  // base64url of []
        }
    }

    func otherExpertID(_ client: some TestClientProtocol, _ p: Programme) async throws -> String {
        try #require((try await client.send(.get, "/v1/me", token: p.otherExpert).body["expert_id"] as? String))
    }

    @Test func queryParametersOutsideTheContractAre400WithTheirPointer() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            // An event's own time, milliseconds included, is a valid `since`.
            let first = try #require(
                (try await client.send(.get, "/v1/events?limit=1", token: p.admin).body["items"] as? [[String: Any]])?.first)
            let at = try #require(first["at"] as? String)
            #expect(at.contains("."))
            let since = try await client.send(.get, "/v1/events?since=\(at)", token: p.admin)
            #expect(since.status == .ok && (since.body["items"] as? [[String: Any]])?.first?["seq"] as? Int == first["seq"] as? Int)
            for (query, pointer) in [
                ("order=DESC", "/order"), ("since=garbage", "/since"), ("subject_type=foo", "/subject_type"), ("limit=abc", "/limit"),
                ("action=", "/action"), ("action=\(String(repeating: "a", count: 101))", "/action"),
            ] {
                let reply = try await client.send(.get, "/v1/events?\(query)", token: p.admin)
                #expect(
                    reply.status == .badRequest && reply.code == "invalid_parameter" && reply.pointers == [pointer],
                    "\(query): \(reply.body)")
            }
        }
    }
}

extension WalkFindingsTests {
    @Test func everyResponseThatReturnsAResourceCarriesAnETag201sIncluded() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let note = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, json: ["needs": needs])
            let member = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/members", token: p.admin, json: ["email": "n@manufacture.fr", "display_name": "N"])
            let me = try await client.send(.get, "/v1/me", token: laureate.token)
            let budget = try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: laureate.token)
            for (name, reply) in [("framing note", note), ("member", member), ("me", me), ("budget", budget)] {
                #expect(reply.status.code < 300 && reply.etag != nil, "\(name)")
            }
            #expect(try await client.send(.get, "/v1/me", token: laureate.token).etag == me.etag)
        }
    }
}
