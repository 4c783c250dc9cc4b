import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

@Suite("Expert cards through the API")
struct ExpertCardsTests {
    @Test func onlyTheCardsExpertAndTheProgrammeTeamSeeACard() async throws {
        let cast = try Cast.make()
        let expected: [String: HTTPResponse.Status] = [
            "anonymous": .unauthorized, "owner": .ok, "other expert": .notFound, "laureate": .notFound, "admin": .ok,
        ]
        try await makeApplication(database: cast.database).test(.router) { client in
            for (name, token) in cast.everyone {
                let reply = try await client.send(.get, "/v1/experts/\(cast.ownerExpertID)", token: token)
                #expect(reply.status == expected[name], "\(name)")
                #expect(reply.headers[.contentType]?.contains("json") == true)
            }
            let admin = try await client.send(.get, "/v1/experts/\(cast.ownerExpertID)", token: cast.admin)
            #expect(admin.body["review_notes"] != nil)
            let owner = try await client.send(.get, "/v1/experts/\(cast.ownerExpertID)", token: cast.owner)
            #expect(owner.body["review_notes"] == nil)
            #expect(owner.body["allowed_actions"] as? [String] == ["submit", "withdraw"])
            #expect(try await client.send(.get, "/v1/experts/does-not-exist", token: cast.admin).status == .notFound)
        }
    }

    @Test func onlyTheOwnerEditsWithIfMatchAndAStaleVersionIs412() async throws {
        let cast = try Cast.make()
        let expected: [String: HTTPResponse.Status] = [
            "anonymous": .unauthorized, "other expert": .notFound, "laureate": .notFound, "admin": .forbidden,
        ]
        try await makeApplication(database: cast.database).test(.router) { client in
            let path = "/v1/experts/\(cast.ownerExpertID)"
            let etag = try #require(try await client.send(.get, path, token: cast.owner).etag)
            for (name, token) in cast.everyone where name != "owner" {
                let reply = try await client.send(.patch, path, token: token, json: ["summary": "x"], headers: [.ifMatch: etag])
                #expect(reply.status == expected[name], "\(name)")
            }
            let missing = try await client.send(.patch, path, token: cast.owner, json: ["summary": "Nouveau"])
            #expect(missing.status == .preconditionRequired && missing.code == "if_match_required")
            let first = try await client.send(
                .patch, path, token: cast.owner, json: ["summary": "Nouveau résumé"], headers: [.ifMatch: etag])
            #expect(first.status == .ok && first.body["summary"] as? String == "Nouveau résumé")
            #expect(first.etag != etag)
            let second = try await client.send(.patch, path, token: cast.owner, json: ["summary": "Autre"], headers: [.ifMatch: etag])
            #expect(second.status == .preconditionFailed && second.code == "stale")
            let invalid = try await client.send(
                .patch, path, token: cast.owner, json: ["subthemes": ["4.2", "13.9"], "organisation": ["name": "X", "siret": "123"]],
                headers: [.ifMatch: first.etag!])
            #expect(invalid.status == .unprocessableContent && Set(invalid.pointers) == ["/subthemes/1", "/organisation/siret"])
            let reread = try await client.send(.get, path, token: cast.owner)
            #expect(reread.body["summary"] as? String == "Nouveau résumé" && reread.etag == first.etag)
        }
    }

    @Test func twoConcurrentEditsOnTheSameVersionLeaveExactlyOneWinner() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.live) { client in
            let path = "/v1/experts/\(cast.ownerExpertID)"
            let etag = try #require(try await client.send(.get, path, token: cast.owner).etag)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await client.send(
                            .patch, path, token: cast.owner, json: ["summary": "Version \(index)"], headers: [.ifMatch: etag]
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .preconditionFailed }.count == 5)
        }
    }

    @Test func anIncompleteSubmissionListsEveryMissingAnswerInOne422() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let signUp = try await client.send(
                .post, "/v1/experts",
                json: ["email": "neo@exemple.fr", "password": "un long mot de passe", "first_name": "Néo", "last_name": "Roux"])
            let token = try #require((signUp.body["session"] as? [String: Any])?["token"] as? String)
            let id = try #require((signUp.body["expert"] as? [String: Any])?["id"] as? String)
            let reply = try await client.send(
                .post, "/v1/experts/\(id)/transitions", token: token, json: ["action": "submit"], headers: [.ifMatch: signUp.etag!])
            #expect(reply.status == .unprocessableContent && reply.code == "card_incomplete")
            #expect(
                Set(reply.pointers) == [
                    "/organisation/name", "/organisation/siret", "/summary", "/subthemes", "/coverage", "/experiences", "/declaration",
                ])
        }
    }

    @Test func fromSubmissionToPublicationWithARequestForChanges() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let path = "/v1/experts/\(cast.ownerExpertID)"
            func transition(_ action: String, _ token: String, message: String? = nil, note: String? = nil) async throws -> Reply {
                let etag = try await client.send(.get, path, token: cast.admin).etag!
                var body: [String: Any] = ["action": action]
                body["message"] = message
                body["note"] = note
                return try await client.send(.post, "\(path)/transitions", token: token, json: body, headers: [.ifMatch: etag])
            }
            #expect(try await transition("submit", cast.owner).body["state"] as? String == "submitted")
            #expect(try await transition("publish", cast.owner).status == .forbidden)
            #expect(try await transition("submit", cast.otherExpert).status == .notFound)
            #expect(try await transition("publish", cast.laureate).status == .notFound)
            let noMessage = try await transition("request_changes", cast.admin)
            #expect(noMessage.status == .unprocessableContent && noMessage.pointers == ["/message"])
            let sentBack = try await transition(
                "request_changes", cast.admin, message: "Précisez vos références", note: "Vérifier le SIRET")
            #expect(sentBack.body["state"] as? String == "changes_requested")
            let seenByOwner = try await client.send(.get, path, token: cast.owner)
            #expect(seenByOwner.body["message"] as? String == "Précisez vos références")
            #expect(!String(decoding: seenByOwner.data, as: UTF8.self).contains("Vérifier le SIRET"))
            let seenByAdmin = try await client.send(.get, path, token: cast.admin)
            let notes = seenByAdmin.body["review_notes"] as? [[String: Any]] ?? []
            #expect(notes.contains { $0["note"] as? String == "Vérifier le SIRET" })
            #expect(try await transition("publish", cast.admin).status == .conflict)
            #expect(try await transition("submit", cast.owner).status == .ok)
            let queue = try await client.send(.get, "/v1/experts?state=submitted", token: cast.admin)
            #expect((queue.body["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [cast.ownerExpertID])
            #expect(try await client.send(.get, "/v1/experts?state=submitted", token: cast.owner).status == .forbidden)
            #expect(try await client.send(.get, "/v1/experts?state=submitted").status == .unauthorized)
            let published = try await transition("publish", cast.admin)
            #expect(published.body["state"] as? String == "published" && published.body["published_at"] != nil)
            let directory = try await client.send(.get, "/v1/directory/experts")
            #expect((directory.body["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["claire-martin"])
            #expect(try await transition("withdraw", cast.owner).body["state"] as? String == "withdrawn")
            let after = try await client.send(.get, "/v1/directory/experts")
            #expect(after.body["total"] as? Int == 0)
        }
    }

    @Test func theReviewQueueIsPagedWithoutDuplicatesOrGaps() async throws {
        let cast = try Cast.make()
        for index in 0..<7 {
            try cast.database.importExpert(
                sampleCard(first: "Expert\(index)", last: "Queue", email: "q\(index)@exemple.fr"), state: .submitted)
        }
        try await makeApplication(database: cast.database).test(.router) { client in
            var seen: [String] = []
            var cursor: String?
            repeat {
                let uri = "/v1/experts?state=submitted&limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, uri, token: cast.admin)
                seen += (page.body["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page.body["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 7 && Set(seen).count == 7)
            #expect(try await client.send(.get, "/v1/experts?limit=0", token: cast.admin).status == .badRequest)
            #expect(try await client.send(.get, "/v1/experts?cursor=abc", token: cast.admin).status == .badRequest)
        }
    }
}
