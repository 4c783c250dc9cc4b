import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

/// Notifications are written to the outbox in the transaction of the change that causes them (issue 13).
@Suite("The outbox")
struct OutboxTests {
    @Test func eachStepLeavesItsNoticesAndARefusedStepLeavesNone() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate)
            #expect(try p.database.waitingNotices().map(\.kind) == [.missionRequested])
            #expect(try p.database.waitingNotices().map(\.recipient) == [.expert(id: p.expertID)])
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            #expect(try p.database.waitingNotices().count == 1)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
            let proposed = try p.database.waitingNotices().filter { $0.kind == .proposalReceived }
            #expect(Set(proposed.map(\.recipient)) == [.laureate(id: laureate.id), .team])
            #expect(try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin).status == .ok)
            #expect(try p.database.waitingNotices().filter { $0.kind == .proposalAccepted }.count == 2)
            // A second mission past the ceiling: its acceptance is refused inside its transaction, and tells nobody.
            let second = try await client.newMission(p, by: laureate, title: "Second")
            _ = try await client.step(second, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(second, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
            let refused = try await client.step(second, laureate.token, ["action": "accept"], reader: p.admin)
            #expect(refused.status == .conflict && refused.code == "budget_exceeded")
            #expect(try p.database.waitingNotices().filter { $0.kind == .proposalAccepted }.count == 2)
            // Every notice names the audit event of its change, and has an id of its own.
            let all = try p.database.waitingNotices()
            #expect(
                Set(all.map(\.id)).count == all.count && all.allSatisfy { $0.eventSeq > 0 && [mission, second].contains($0.subjectID) })
        }
    }

    @Test func aSubmittedCardIsQueuedForTheTeam() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            let path = "/v1/experts/\(cast.ownerExpertID)"
            let etag = try #require(try await client.send(.get, path, token: cast.owner).etag)
            let reply = try await client.send(
                .post, "\(path)/transitions", token: cast.owner, json: ["action": "submit"], headers: [.ifMatch: etag])
            #expect(reply.status == .ok)
            let notices = try cast.database.waitingNotices()
            #expect(notices.map(\.kind) == [.cardSubmitted] && notices.map(\.recipient) == [.team])
            // Withdrawn, reopened and submitted again the same day: the team is not told again.
            for action in ["withdraw", "reopen", "submit"] {
                let tag = try #require(try await client.send(.get, path, token: cast.owner).etag)
                let step = try await client.send(
                    .post, "\(path)/transitions", token: cast.owner, json: ["action": action], headers: [.ifMatch: tag])
                #expect(step.status == .ok, "\(action): \(step.body)")
            }
            #expect(try cast.database.waitingNotices().count == 1)
        }
    }
}
