import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

@Suite("Accounts and tokens")
struct AccountsTests {
    @Test func aPasswordLoginGivesATokenThatIdentifiesTheCallerUntilRevoked() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let login = try await client.send(
                .post, "/v1/auth/token", json: ["email": " Equipe@FranceTiersLieux.fr ", "password": "mot de passe equipe"])
            #expect(login.status == .created)
            let token = try #require(login.body["token"] as? String)
            #expect(token.hasPrefix("mdp_") && login.body["token_type"] as? String == "Bearer")
            let me = try await client.send(.get, "/v1/me", token: token)
            #expect(
                me.status == .ok && me.body["role"] as? String == "admin" && me.body["email"] as? String == "equipe@francetierslieux.fr")
            #expect(try await client.send(.delete, "/v1/auth/token", token: token).status == .noContent)
            let after = try await client.send(.get, "/v1/me", token: token)
            #expect(after.status == .unauthorized && after.code == "invalid_token")
            #expect(after.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
    }

    @Test func tokensAreStoredOnlyAsHashes() async throws {
        let cast = try Cast.make()
        let issued = try cast.database.login(email: "paul@durand-conseil.fr", password: "mot de passe paul", address: "127.0.0.1")
        let dump = try cast.database.debugDumpOfTokenTable()
        #expect(!dump.contains(issued.secret) && !dump.contains(String(issued.secret.dropFirst(4))))
        #expect(try cast.database.authenticate(token: issued.secret)?.account.email == "paul@durand-conseil.fr")
        #expect(try cast.database.authenticate(token: issued.secret + "x") == nil)
    }

    @Test func wrongCredentialsAre401AndTheSixthTryIn15MinutesIs429() async throws {
        let clock = TestClock()
        let cast = try Cast.make(clock: clock)
        try await makeApplication(database: cast.database).test(.router) { client in
            for _ in 0..<5 {
                let reply = try await client.send(
                    .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "wrong password"])
                #expect(reply.status == .unauthorized && reply.code == "invalid_credentials")
            }
            let blocked = try await client.send(
                .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "mot de passe paul"])
            #expect(blocked.status == .tooManyRequests && blocked.code == "too_many_attempts")
            #expect(blocked.headers[.retryAfter] == "900")
            // The same address is blocked for other accounts too.
            let other = try await client.send(
                .post, "/v1/auth/token", json: ["email": "claire@atelier-martin.fr", "password": "mot de passe claire"])
            #expect(other.status == .tooManyRequests)
            clock.advance(by: 15 * 60 + 1)
            let again = try await client.send(
                .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "mot de passe paul"])
            #expect(again.status == .created)
        }
    }

    @Test func guessesSentAllAtOnceAreCountedOneAfterAnother() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database, trustedProxies: ["127.0.0.1"]).test(.live) { client in
            // 30 guesses at once for one account, each from another address (a botnet), and the right password among
            // them: no more than the limit are checked, whatever the order they arrive in.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        try await client.send(
                            .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "wrong password \(index)"],
                            headers: [HTTPField.Name("X-Real-IP")!: "198.51.100.\(index)"]
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count <= AppDatabase.throttleLimit, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 30 - AppDatabase.throttleLimit)
        }
    }

    @Test func anUnknownAccountIsRefusedLikeAWrongPassword() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let reply = try await client.send(
                .post, "/v1/auth/token", json: ["email": "nobody@example.fr", "password": "whatever password"])
            #expect(reply.status == .unauthorized && reply.code == "invalid_credentials")
        }
    }

    @Test func sessionsExpire() async throws {
        let clock = TestClock()
        let cast = try Cast.make(clock: clock)
        let issued = try cast.database.login(email: "paul@durand-conseil.fr", password: "mot de passe paul", address: "127.0.0.1")
        #expect(issued.record.expiresAt == clock.now.addingTimeInterval(12 * 3600))
        clock.advance(by: 12 * 3600 + 1)
        try await makeApplication(database: cast.database).test(.router) { client in
            let reply = try await client.send(.get, "/v1/me", token: issued.secret)
            #expect(reply.status == .unauthorized)
        }
    }

    @Test func personalTokensAreCreatedListedWithoutSecretAndRevokedOnlyByTheirOwner() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let created = try await client.send(
                .post, "/v1/me/tokens", token: cast.owner, json: ["name": "Mon CRM", "expires_in_days": 30])
            #expect(created.status == .created)
            let secret = try #require(created.body["token"] as? String)
            let record = try #require(created.body["personal_token"] as? [String: Any])
            let id = try #require(record["id"] as? String)
            #expect(try await client.send(.get, "/v1/me", token: secret).status == .ok)
            let list = try await client.send(.get, "/v1/me/tokens", token: cast.owner)
            let items = list.body["items"] as? [[String: Any]] ?? []
            #expect(items.contains { $0["id"] as? String == id && $0["name"] as? String == "Mon CRM" })
            #expect(!String(decoding: list.data, as: UTF8.self).contains(secret))
            #expect(try await client.send(.delete, "/v1/me/tokens/\(id)", token: cast.otherExpert).status == .notFound)
            #expect(try await client.send(.delete, "/v1/me/tokens/\(id)", token: cast.owner).status == .noContent)
            #expect(try await client.send(.get, "/v1/me", token: secret).status == .unauthorized)
            let invalid = try await client.send(.post, "/v1/me/tokens", token: cast.owner, json: ["name": "", "expires_in_days": 900])
            #expect(invalid.status == .unprocessableContent && Set(invalid.pointers) == ["/name", "/expires_in_days"])
            #expect(try await client.send(.get, "/v1/me/tokens").status == .unauthorized)
        }
    }

    @Test func anExpertSignsUpWithADraftCardAndASession() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let body: [String: Any] = [
                "email": "Lea.Petit@Exemple.fr", "password": "un long mot de passe", "first_name": "Léa", "last_name": "Petit",
            ]
            let reply = try await client.send(.post, "/v1/experts", json: body)
            #expect(reply.status == .created)
            let expert = try #require(reply.body["expert"] as? [String: Any])
            #expect(expert["state"] as? String == "draft" && expert["slug"] as? String == "lea-petit")
            #expect((expert["contact"] as? [String: Any])?["email"] as? String == "lea.petit@exemple.fr")
            #expect(reply.etag == "\"r\(expert["revision"] as? Int ?? -1)\"")
            let token = try #require((reply.body["session"] as? [String: Any])?["token"] as? String)
            let me = try await client.send(.get, "/v1/me", token: token)
            #expect(me.body["expert_id"] as? String == expert["id"] as? String)
            let again = try await client.send(.post, "/v1/experts", json: body.merging(["email": "lea.petit@exemple.FR"]) { $1 })
            #expect(again.status == .conflict && again.code == "email_taken")
            let weak = try await client.send(
                .post, "/v1/experts", json: ["email": "x", "password": "short", "first_name": "", "last_name": "P"])
            #expect(weak.status == .unprocessableContent && Set(weak.pointers) == ["/email", "/password", "/first_name"])
        }
    }
}
