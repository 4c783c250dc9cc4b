import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

/// Two `mdp serve` over one PostgreSQL database, as two instances behind a load balancer: each has its own
/// connections, caches and directory; what one writes, the other honours at once. (Runs where the suite runs on
/// PostgreSQL, `make test`'s second pass; one embedded SQLite file has one server.)
@Suite(
    "Several instances over one PostgreSQL database",
    .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"]?.isEmpty == false))
struct InstancesTests {
    /// Runs `body` with a live client on each of two instances of `database`.
    static func twoInstances(
        _ database: AppDatabase, _ body: @Sendable (any TestClientProtocol, any TestClientProtocol) async throws -> Void
    ) async throws {
        let other = try #require(try database.anotherInstance())
        try await makeApplication(database: database).test(.live) { first in
            try await makeApplication(database: other).test(.live) { second in try await body(first, second) }
        }
    }

    @Test func twoAcceptancesForTheLastEurosOnTwoInstancesOnlyOneWins() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await Self.twoInstances(p.database) { first, second in
            try await first.note(laureate)
            var missions: [String] = []
            for title in ["Foncier", "Juridique", "Communication", "Numérique"] {
                let id = try await first.newMission(p, by: laureate, title: title)
                _ = try await second.step(id, p.expert, ["action": "scope"], reader: p.admin)
                // 5 000 € before VAT: 6 000 € each, only one fits under 10 000 €.
                _ = try await first.step(id, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
                missions.append(id)
            }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for (index, id) in missions.enumerated() {
                    let client = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await client.step(id, laureate.token, ["action": "accept"], reader: p.admin).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 3)
            for client in [first, second] {
                let budget = try await client.send(.get, "/v1/laureates/\(laureate.id)/budget", token: p.admin)
                #expect(budget.body["committed_cents"] as? Int == 600_000)
            }
        }
        #expect(try p.database.verifyAuditChain() == .intact(events: try p.database.events(after: 0, limit: 10_000).count))
    }

    @Test func writesOnBothInstancesAtOnceKeepOneUnbrokenAuditChain() async throws {
        let p = try Programme.make(ceilings: [2_000_000, 2_000_000, 2_000_000])
        try await Self.twoInstances(p.database) { first, second in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, laureate) in p.laureates.enumerated() {
                    for client in [first, second] {
                        group.addTask {
                            try await client.note(laureate)
                            _ = try await client.newMission(p, by: laureate, title: "Mission \(index)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let events = try p.database.events(after: 0, limit: 10_000)
        #expect(events.filter { $0.action == "framing_note.revised" }.count == 6)
        #expect(try p.database.verifyAuditChain() == .intact(events: events.count))
    }

    @Test func aCardPublishedOnOneInstanceIsInTheOthersDirectoryAtOnce() async throws {
        let cast = try Cast.make()
        try await Self.twoInstances(cast.database) { first, second in
            // The second instance has built (and cached) its directory before the card is published.
            let before = try await second.send(.get, "/v1/directory/experts?q=Martin")
            #expect(before.status == .ok && (before.body["items"] as? [Any])?.isEmpty == true)
            try await publish(cast, through: first)
            let here = try await first.send(.get, "/v1/directory/experts?q=Martin")
            #expect((here.body["items"] as? [[String: Any]])?.map { $0["expert_id"] as? String } == [cast.ownerExpertID], "\(here.body)")
            // The commit's notification reaches the other instance within milliseconds; a read racing it may be
            // answered from the cache just before, so the check polls briefly (a deadline, not a sleep).
            let start = ContinuousClock.now
            var found = false
            // (Milliseconds on an idle machine; the deadline allows for a loaded one. Without the notification the
            // cached directory would stay stale for good.)
            while !found && ContinuousClock.now - start < .seconds(3) {
                let after = try await second.send(.get, "/v1/directory/experts?q=Martin")
                found = (after.body["items"] as? [[String: Any]])?.map { $0["expert_id"] as? String } == [cast.ownerExpertID]
            }
            #expect(found, "the card published on one instance never reached the other's directory")
        }
    }

    @Test func aTokenRevokedOnOneInstanceIsRefusedOnTheOther() async throws {
        let cast = try Cast.make()
        try await Self.twoInstances(cast.database) { first, second in
            let login = try await first.send(
                .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "mot de passe paul"])
            let token = try #require(login.body["token"] as? String)
            #expect(try await second.send(.get, "/v1/me", token: token).status == .ok)
            #expect(try await first.send(.delete, "/v1/auth/token", token: token).status == .noContent)
            #expect(try await second.send(.get, "/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func failedLoginsOnEitherInstanceCountTogether() async throws {
        let cast = try Cast.make()
        try await Self.twoInstances(cast.database) { first, second in
            var statuses: [HTTPResponse.Status] = []
            for attempt in 0..<12 {
                let client = attempt.isMultiple(of: 2) ? first : second
                let reply = try await client.send(
                    .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "wrong password"])
                statuses.append(reply.status)
            }
            // Throttled after the limit, whichever instance counted the failures.
            #expect(statuses.contains(.tooManyRequests))
            let right = try await first.send(
                .post, "/v1/auth/token", json: ["email": "paul@durand-conseil.fr", "password": "mot de passe paul"])
            #expect(right.status == .tooManyRequests)
        }
    }

    @Test func aRetryOnTheOtherInstanceReplaysTheFirstAnswer() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await Self.twoInstances(p.database) { first, second in
            try await first.note(laureate)
            let body: [String: Any] = ["title": "Foncier", "expert_id": p.expertID, "laureate_ids": [laureate.id]]
            let key: HTTPFields = [.idempotencyKey: "retry-elsewhere-1"]
            let original = try await first.send(.post, "/v1/missions", token: laureate.token, json: body, headers: key)
            let retry = try await second.send(.post, "/v1/missions", token: laureate.token, json: body, headers: key)
            #expect(original.status == .created && retry.status == .created)
            #expect(retry.body["id"] as? String == original.body["id"] as? String)
            let missions = try await second.send(.get, "/v1/missions", token: p.admin)
            #expect((missions.body["items"] as? [Any])?.count == 1)
        }
    }

    /// The card's owner fills and submits it through `client`; the team publishes it.
    func publish(_ cast: Cast, through client: any TestClientProtocol) async throws {
        let path = "/v1/experts/\(cast.ownerExpertID)"
        for (token, body) in [(cast.owner, ["action": "submit"]), (cast.admin, ["action": "publish"])] {
            let etag = try #require(try await client.send(.get, path, token: token).etag)
            let reply = try await client.send(.post, "\(path)/transitions", token: token, json: body, headers: [.ifMatch: etag])
            #expect(reply.status == .ok, "\(body): \(reply.body)")
        }
    }
}
