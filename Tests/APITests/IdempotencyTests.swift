import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

@Suite("Idempotency-Key on POST")
struct IdempotencyTests {
    @Test func aRetryWithTheSameKeyGetsTheFirstAnswerAndCreatesNothingMore() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let body: [String: Any] = ["title": "Foncier", "expert_id": p.expertID, "laureate_ids": [laureate.id]]
            let key: HTTPFields = [.idempotencyKey: "5b0f7f5e-request-1"]
            let first = try await client.send(.post, "/v1/missions", token: laureate.token, json: body, headers: key)
            let retry = try await client.send(.post, "/v1/missions", token: laureate.token, json: body, headers: key)
            #expect(first.status == .created && retry.status == .created)
            #expect(retry.body["id"] as? String == first.body["id"] as? String && retry.etag == first.etag)
            #expect(retry.headers[.idempotentReplayed] == "true" && first.headers[.idempotentReplayed] == nil)
            let listed = try await client.send(.get, "/v1/missions", token: laureate.token)
            #expect((listed.body["items"] as? [Any])?.count == 1)

            let other = try await client.send(
                .post, "/v1/missions", token: laureate.token, json: body.merging(["title": "Autre"]) { $1 }, headers: key)
            #expect(other.status == .unprocessableContent && other.code == "idempotency_key_reused")

            // Keys are per caller: another laureate's same key is its own.
            let theirs = try await client.send(
                .post, "/v1/missions", token: p.laureates[1].token,
                json: ["title": "Foncier", "expert_id": p.expertID, "laureate_ids": [p.laureates[1].id]], headers: key)
            #expect(theirs.status == .created && theirs.body["id"] as? String != first.body["id"] as? String)
        }
    }

    /// A client killed mid-upload never sent its request: the key stays free, and the retry with the whole file is
    /// carried out (a kept "malformed body" answer once made a Drive file unimportable for a day).
    @Test func anUploadCutMidBodyKeepsNoAnswerForItsKey() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.live) { client in
            try await client.note(laureate)
            let uri = "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=cut.pdf"
            let bytes = Array("%PDF-1.4\n".utf8) + [UInt8](repeating: 0x41, count: 4_000)
            let head =
                "POST \(uri) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(laureate.token)\r\n"
                + "Content-Type: application/octet-stream\r\nIdempotency-Key: cut-upload\r\nContent-Length: \(bytes.count)\r\n\r\n"
            let cut = try await client.exchangeRaw(Array(head.utf8) + bytes.prefix(1_000))
            #expect(cut == 400 || cut == 0)
            // The cut request may still be winding down when the retry comes (the client hung up first): it is then told
            // to come back (409 with Retry-After), as any client would, and is carried out once the key is free.
            var retry = try await client.upload(uri, token: laureate.token, bytes: bytes, headers: [.idempotencyKey: "cut-upload"])
            let deadline = Date().addingTimeInterval(30)
            while retry.code == "idempotency_in_progress" && Date() < deadline {
                #expect(retry.headers[.retryAfter] != nil)
                try await Task.sleep(for: .milliseconds(200))
                retry = try await client.upload(uri, token: laureate.token, bytes: bytes, headers: [.idempotencyKey: "cut-upload"])
            }
            #expect(retry.status == .created, "\(retry.body)")
            #expect(retry.headers[.idempotentReplayed] == nil)
        }
    }

    @Test func aRefusalIsReplayedTooAndATransitionIsNotAppliedTwice() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let id = try await client.newMission(p, by: laureate, title: "t")
            let etag = try #require(try await client.send(.get, "/v1/missions/\(id)", token: p.expert).etag)
            let headers: HTTPFields = [.ifMatch: etag, .idempotencyKey: "scope-once"]
            let first = try await client.send(
                .post, "/v1/missions/\(id)/transitions", token: p.expert, json: ["action": "scope"], headers: headers)
            let retry = try await client.send(
                .post, "/v1/missions/\(id)/transitions", token: p.expert, json: ["action": "scope"], headers: headers)
            #expect(first.status == .ok && retry.status == .ok && retry.body["revision"] as? Int == first.body["revision"] as? Int)
            let timeline = try await client.send(.get, "/v1/missions/\(id)/events", token: p.expert)
            #expect((timeline.body["items"] as? [[String: Any]])?.filter { $0["action"] as? String == "mission.scope" }.count == 1)

            let refusedKey: HTTPFields = [.ifMatch: etag, .idempotencyKey: "stale-once"]
            let refused = try await client.send(
                .post, "/v1/missions/\(id)/transitions", token: p.expert, json: ["action": "decline"], headers: refusedKey)
            let again = try await client.send(
                .post, "/v1/missions/\(id)/transitions", token: p.expert, json: ["action": "decline"], headers: refusedKey)
            #expect(refused.status == .preconditionFailed && again.status == .preconditionFailed)
            #expect(again.headers[.contentType] == "application/problem+json" && again.headers[.idempotentReplayed] == "true")
        }
    }

    @Test func anOverlongKeyIsRefused() async throws {
        try await makeApplication().test(.router) { client in
            let reply = try await client.send(
                .post, "/v1/auth/token", json: ["email": "a@b.fr", "password": "x"],
                headers: [.idempotencyKey: String(repeating: "k", count: 201)])
            #expect(reply.status == .badRequest)
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
