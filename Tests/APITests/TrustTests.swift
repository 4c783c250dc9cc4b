import Domain
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import Storage
import Synchronization
import Testing

/// What an outside tester broke, each as a test: a load that froze the server, requests that trapped it, a pooled
/// mission past a ceiling, a dossier opened without consent, a feed that showed a file to the wrong expert, control
/// characters, secrets in logs and in stored replies.
@Suite("Trust: no request or load stops the service, no euro past a ceiling, no dossier without consent")
struct TrustAPITests {
    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mdp-trust-\(UUID().uuidString)").path
    }

    // MARK: Never a blocked thread

    /// The production configuration (a file-backed WAL pool) under 256 concurrent authenticated requests over the read
    /// endpoints and a mix of writes: every one completes. Eight such requests used to freeze the server for good, so a
    /// watchdog outside Swift concurrency ends the process with a message if they do not finish in time.
    @Test func twoHundredFiftySixConcurrentAuthenticatedRequestsOnAFileDatabaseAllComplete() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let p = try Programme.make(directory: folder)
        let finished = Atomic<Bool>(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 180) {
            if !finished.load(ordering: .relaxed) {
                fatalError("256 concurrent requests did not complete within 180 s: the server froze")
            }
        }
        try await makeApplication(database: p.database).test(.router) { client in
            for laureate in p.laureates { try await client.note(laureate) }
            var missionIDs: [String] = []
            for laureate in p.laureates {
                let mission = try await client.newMission(p, by: laureate)
                _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
                missionIDs.append(mission)
            }
            let uploaded = try await client.upload(
                "/v1/laureates/\(p.laureates[0].id)/documents?kind=application&file_name=dossier.pdf", token: p.laureates[0].token,
                bytes: pdf)
            let document = try #require(uploaded.body["id"] as? String)
            let laureate = p.laureates[0]
            let missions = missionIDs
            let reads: [(String, String)] = [
                ("/v1/missions", laureate.token), ("/v1/missions", p.expert), ("/v1/missions/\(missions[0])", laureate.token),
                ("/v1/missions/\(missions[1])/events", p.expert), ("/v1/laureates/\(laureate.id)/budget", laureate.token),
                ("/v1/laureates/\(laureate.id)/framing-notes", p.expert), ("/v1/documents", p.admin),
                ("/v1/documents/\(document)", p.expert), ("/v1/documents/\(document)/content", laureate.token), ("/v1/me", p.expert),
                ("/v1/events", p.admin), ("/v1/programme/summary", p.admin), ("/v1/laureates", p.admin), ("/health", ""),
                ("/v1/directory/experts?q=martin", ""), ("/v1/experts?state=published", p.admin),
            ]
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<256 {
                    group.addTask {
                        switch index % 8 {
                        case 0:
                            let target = p.laureates[index % 3]
                            return try await client.send(
                                .post, "/v1/missions", token: target.token,
                                json: ["title": "Charge \(index)", "expert_id": p.expertID, "laureate_ids": [target.id]]
                            ).status.code
                        case 1:
                            let target = p.laureates[index % 3]
                            return try await client.send(
                                .post, "/v1/laureates/\(target.id)/framing-notes", token: target.token, json: ["needs": needs]
                            ).status.code
                        case 2:
                            return try await client.upload(
                                "/v1/missions/\(missions[index % 3])/documents?kind=deliverable&file_name=livrable-\(index).txt",
                                token: p.expert, bytes: Array("Livrable \(index)\n".utf8)
                            ).status.code
                        default:
                            let (uri, token) = reads[index % reads.count]
                            return try await client.send(.get, uri, token: token.isEmpty ? nil : token).status.code
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            finished.store(true, ordering: .relaxed)
            #expect(statuses.count == 256)
            #expect(
                statuses.allSatisfy { (200..<300).contains($0) }, "statuses: \(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
        }
    }

    // MARK: Nothing derived from input can trap

    @Test(
        arguments: [
            ("bytes=0-9223372036854775807", 206, "bytes 0-%d/%d"), ("bytes=0-99999999999999999999999", 206, "bytes 0-%d/%d"),
            ("bytes=9223372036854775807-", 416, nil), ("bytes=99999999999999999999999-", 416, nil),
            ("bytes=-9223372036854775808", 206, "bytes 0-%d/%d"),
            ("bytes=-99999999999999999999", 206, "bytes 0-%d/%d"), ("bytes=5-4", 200, nil), ("bytes=+1-2", 200, nil),
            ("bytes=-0", 416, nil),
            ("bytes=3-", 206, "bytes 3-%d/%d"), ("bytes=1-2", 206, nil),
        ] as [(String, Int, String?)])
    func extremeByteRangesAreAnsweredNeverATrap(_ range: String, _ status: Int, _ contentRange: String?) async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            let uploaded = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=dossier.pdf", token: laureate.token, bytes: pdf)
            let id = try #require(uploaded.body["id"] as? String)
            let reply = try await client.send(.get, "/v1/documents/\(id)/content", token: laureate.token, headers: [.range: range])
            #expect(reply.status.code == status)
            if let contentRange {
                #expect(reply.headers[.contentRange] == String(format: contentRange, pdf.count - 1, pdf.count))
            }
            if status == 416 { #expect(reply.headers[.contentRange] == "bytes */\(pdf.count)") }
            // The server still answers.
            #expect(try await client.send(.get, "/health").status == .ok)
        }
    }

    @Test func aQuoteWhoseLinesWouldOverflowIsRefusedWithAPointerAndTheServerGoesOn() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate)
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            var body = proposalBody(totalBeforeVAT: 100)
            var quote = try #require(body["quote"] as? [String: Any])
            // The tester's request: 24 lines of 100 000 units at 10 000 000 €, 20 % VAT.
            quote["lines"] = Array(
                repeating: ["label": "Jour", "quantity_hundredths": 10_000_000, "unit_price_cents": 1_000_000_000], count: 24)
            body["quote"] = quote
            let huge = try await client.step(mission, p.expert, body, reader: p.admin)
            #expect(huge.status == .unprocessableContent && huge.pointers.contains("/quote/lines/0/unit_price_cents"))
            // Each field within its bounds, but more than the laureate's ceiling could ever pay (15 000 €).
            quote["lines"] = [["label": "Jour", "quantity_hundredths": 10_000_000, "unit_price_cents": Quote.maxUnitPriceCents]]
            body["quote"] = quote
            let single = try await client.step(mission, p.expert, body, reader: p.admin)
            #expect(single.status == .unprocessableContent && single.body["errors"].map { "\($0)" }?.contains("above_payable") == true)
            quote["lines"] = [["label": "Jour", "quantity_hundredths": Int.max, "unit_price_cents": Int.max]]
            body["quote"] = quote
            let extreme = try await client.step(mission, p.expert, body, reader: p.admin)
            #expect(extreme.status == .unprocessableContent)
            #expect(try await client.send(.get, "/v1/missions/\(mission)", token: p.expert).body["state"] as? String == "scoping")
        }
    }

    // MARK: Pooled money

    /// The tester's example through the API: L3 (10 000 €) validates its 6 000 € share of a pooled mission, then tries
    /// to accept its own 5 000,04 € mission: refused, since the share is held. The pool then goes through.
    @Test func aValidatedPooledShareIsHeldSoASoloMissionCannotPassTheCeiling() async throws {
        let p = try Programme.make(ceilings: [2_000_000, 2_000_000, 1_000_000])
        try await makeApplication(database: p.database).test(.router) { client in
            let (l1, l3) = (p.laureates[0], p.laureates[2])
            for laureate in [l1, l3] { try await client.note(laureate) }
            let pool = try await client.pooledMission(p, [l1, l3])
            _ = try await client.step(pool, p.expert, ["action": "scope"], reader: p.admin)
            // 10 000 € before VAT + 20 % = 12 000 €, 6 000 € each.
            let proposed = try await client.step(pool, p.expert, proposalBody(totalBeforeVAT: 1_000_000), reader: p.admin)
            #expect(proposed.status == .ok)
            let solo = try await client.newMission(p, by: l3)
            _ = try await client.step(solo, p.expert, ["action": "scope"], reader: p.admin)
            // 4 166,70 € + 20 % = 5 000,04 €.
            _ = try await client.step(solo, p.expert, proposalBody(totalBeforeVAT: 416_670), reader: p.admin)
            #expect(try await client.step(pool, l3.token, ["action": "accept"], reader: p.admin).status == .ok)
            let budget = try await client.send(.get, "/v1/laureates/\(l3.id)/budget", token: l3.token)
            #expect(budget.body["held_cents"] as? Int == 600_000 && budget.body["committed_cents"] as? Int == 600_000)
            #expect(budget.body["remaining_cents"] as? Int == 400_000)
            let refused = try await client.step(solo, l3.token, ["action": "accept"], reader: p.admin)
            #expect(refused.status == .conflict && refused.code == "budget_exceeded" && refused.body["remaining_cents"] as? Int == 400_000)
            #expect(try await client.step(pool, l1.token, ["action": "accept"], reader: p.admin).body["state"] as? String == "accepted")
            let after = try await client.send(.get, "/v1/laureates/\(l3.id)/budget", token: l3.token)
            #expect(after.body["held_cents"] as? Int == 0 && after.body["committed_cents"] as? Int == 600_000)
        }
    }

    @Test func aHoldIsReleasedWhenThePoolEndsUnaccepted() async throws {
        let p = try Programme.make(ceilings: [2_000_000, 2_000_000, 1_000_000])
        try await makeApplication(database: p.database).test(.router) { client in
            let (l1, l3) = (p.laureates[0], p.laureates[2])
            for laureate in [l1, l3] { try await client.note(laureate) }
            let pool = try await client.pooledMission(p, [l1, l3])
            _ = try await client.step(pool, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(pool, p.expert, proposalBody(totalBeforeVAT: 1_000_000), reader: p.admin)
            _ = try await client.step(pool, l3.token, ["action": "accept"], reader: p.admin)
            #expect(try await client.send(.get, "/v1/laureates/\(l3.id)/budget", token: l3.token).body["held_cents"] as? Int == 600_000)
            // A laureate does not end a pool another takes part in (it leaves instead); the expert may.
            let refused = try await client.step(pool, l1.token, ["action": "decline", "comment": "Plus besoin"], reader: p.admin)
            #expect(refused.status == .conflict && refused.code == "others_take_part")
            #expect(try await client.send(.get, "/v1/laureates/\(l3.id)/budget", token: l3.token).body["held_cents"] as? Int == 600_000)
            _ = try await client.step(pool, p.expert, ["action": "decline", "comment": "Plus disponible"], reader: p.admin)
            let budget = try await client.send(.get, "/v1/laureates/\(l3.id)/budget", token: l3.token)
            #expect(budget.body["held_cents"] as? Int == 0 && budget.body["remaining_cents"] as? Int == 1_000_000)
        }
    }

    /// Two acceptances racing for a laureate's last euros, one pooled share and one solo mission, on the production
    /// database: whatever the order, at most one wins and the ceiling holds.
    @Test func aPooledShareAndASoloMissionRacingForTheLastEurosNeverPassTheCeiling() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let p = try Programme.make(ceilings: [2_000_000, 2_000_000, 1_000_000], directory: folder)
        try await makeApplication(database: p.database).test(.router) { client in
            let (l1, l3) = (p.laureates[0], p.laureates[2])
            for laureate in [l1, l3] { try await client.note(laureate) }
            let pool = try await client.pooledMission(p, [l1, l3])
            _ = try await client.step(pool, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(pool, p.expert, proposalBody(totalBeforeVAT: 1_000_000), reader: p.admin)
            let solo = try await client.newMission(p, by: l3)
            _ = try await client.step(solo, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(solo, p.expert, proposalBody(totalBeforeVAT: 416_670), reader: p.admin)
            let poolTag = try #require(try await client.send(.get, "/v1/missions/\(pool)", token: l3.token).etag)
            let soloTag = try #require(try await client.send(.get, "/v1/missions/\(solo)", token: l3.token).etag)
            async let a = client.send(
                .post, "/v1/missions/\(pool)/transitions", token: l3.token, json: ["action": "accept"], headers: [.ifMatch: poolTag])
            async let b = client.send(
                .post, "/v1/missions/\(solo)/transitions", token: l3.token, json: ["action": "accept"], headers: [.ifMatch: soloTag])
            let outcomes = try await [a.status, b.status]
            #expect(outcomes.filter { $0 == .ok }.count == 1 && outcomes.filter { $0 == .conflict }.count == 1)
            let budget = try await client.send(.get, "/v1/laureates/\(l3.id)/budget", token: l3.token)
            #expect(try #require(budget.body["committed_cents"] as? Int) <= 1_000_000)
        }
    }

    // MARK: Consent for pooled missions

    @Test func anInvitedLaureateIsAParticipantOnlyOnceItsMemberJoins() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let (l1, l2) = (p.laureates[0], p.laureates[1])
            for laureate in [l1, l2] { try await client.note(laureate) }
            _ = try await client.upload(
                "/v1/laureates/\(l2.id)/documents?kind=application&file_name=candidature.pdf", token: l2.token, bytes: pdf)
            let mission = try #require(
                try await client.send(
                    .post, "/v1/missions", token: l1.token,
                    json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": [l1.id, l2.id]]
                ).body["id"] as? String)
            // The expert sees only the requester; the invited laureate sees the invitation.
            let seenByExpert = try await client.send(.get, "/v1/missions/\(mission)", token: p.expert)
            #expect((seenByExpert.body["participants"] as? [[String: Any]])?.compactMap { $0["laureate_id"] as? String } == [l1.id])
            let seenByInvited = try await client.send(.get, "/v1/missions/\(mission)", token: l2.token)
            let invited = (seenByInvited.body["participants"] as? [[String: Any]])?.first { $0["laureate_id"] as? String == l2.id }
            #expect(invited?["joined"] as? Bool == false)
            #expect(seenByInvited.body["allowed_actions"] as? [String] == ["leave", "join"])
            #expect(
                try await client.send(.get, "/v1/missions/\(mission)", token: l1.token).body["allowed_actions"] as? [String] == [
                    "cancel", "leave",
                ])
            // Nothing moves before it answers: no scope, no budget line, no dossier for the expert.
            let scope = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            #expect(scope.status == .conflict && scope.code == "invitations_pending")
            #expect(
                (try await client.send(.get, "/v1/laureates/\(l2.id)/budget", token: l2.token).body["missions"] as? [Any])?.isEmpty == true)
            let cancel = try await client.step(mission, l2.token, ["action": "cancel"], reader: p.admin)
            #expect(cancel.status == .conflict && cancel.code == "invitation_not_answered")
            #expect(try await client.send(.get, "/v1/laureates/\(l2.id)/framing-notes", token: p.expert).status == .notFound)
            // It joins: the expert now sees it and may scope, and from then on reads its dossier.
            try await client.join(mission, [l2], reader: p.admin)
            #expect(
                (try await client.send(.get, "/v1/missions/\(mission)", token: p.expert).body["participants"] as? [Any])?.count == 2)
            #expect(try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin).status == .ok)
            #expect(try await client.send(.get, "/v1/laureates/\(l2.id)/framing-notes", token: p.expert).status == .ok)
        }
    }

    @Test func whenTheInvitedLaureateDeclinesTheRequesterAloneIsCancelledAndTheExpertNeverSawTheDossier() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let (l1, l2) = (p.laureates[0], p.laureates[1])
            for laureate in [l1, l2] { try await client.note(laureate) }
            let mission = try #require(
                try await client.send(
                    .post, "/v1/missions", token: l1.token,
                    json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": [l1.id, l2.id]]
                ).body["id"] as? String)
            let declined = try await client.step(mission, l2.token, ["action": "leave"], reader: p.admin)
            #expect(declined.status == .ok)
            let after = try await client.send(.get, "/v1/missions/\(mission)", token: l1.token)
            #expect(after.body["state"] as? String == "cancelled")
            #expect(try await client.send(.get, "/v1/laureates/\(l2.id)/framing-notes", token: p.expert).status == .notFound)
        }
    }

    // MARK: One visibility rule for documents

    /// A pooled mission's file uploaded by a laureate that then leaves: it stays the mission's file, read by the
    /// mission's expert and remaining laureates, never by an expert engaged with the leaver on another mission.
    @Test func theDocumentsFeedAndTheDocumentAnswerFromTheSameRuleAfterALaureateLeavesAPool() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let (l1, l2) = (p.laureates[0], p.laureates[1])
            for laureate in [l1, l2] { try await client.note(laureate) }
            let pool = try await client.pooledMission(p, [l1, l2])
            _ = try await client.step(pool, p.expert, ["action": "scope"], reader: p.admin)
            // The other expert works with L2 on another mission.
            let other = try #require(
                try await client.send(
                    .post, "/v1/missions", token: l2.token,
                    json: ["title": "Autre", "expert_id": try otherExpertID(p), "laureate_ids": [l2.id]]
                ).body["id"] as? String)
            _ = try await client.step(other, p.otherExpert, ["action": "scope"], reader: p.admin)
            let uploaded = try await client.upload(
                "/v1/missions/\(pool)/documents?kind=deliverable&file_name=compte-rendu.txt", token: l2.token,
                bytes: Array("Compte rendu de l'atelier\n".utf8))
            let document = try #require(uploaded.body["id"] as? String)
            _ = try await client.step(pool, l2.token, ["action": "leave"], reader: p.admin)
            func feed(_ token: String) async throws -> [String] {
                let reply = try await client.send(.get, "/v1/documents?updated_after=0&limit=100", token: token)
                return (reply.body["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            }
            #expect(try await feed(p.otherExpert).contains(document) == false)
            #expect(try await client.send(.get, "/v1/documents/\(document)", token: p.otherExpert).status == .notFound)
            #expect(try await feed(l1.token).contains(document))
            #expect(try await client.send(.get, "/v1/documents/\(document)", token: l1.token).status == .ok)
            #expect(try await feed(p.expert).contains(document))
            #expect(try await feed(l2.token).contains(document) == false)
            #expect(try await client.send(.get, "/v1/documents/\(document)/content", token: l2.token).status == .notFound)
        }
    }

    func otherExpertID(_ p: Programme) throws -> String {
        try #require(try p.database.account(email: "paul@autre.fr")?.expertID)
    }

    // MARK: Text hygiene

    @Test(
        arguments: [
            (
                "/v1/experts",
                ["email": "nul@example.fr", "password": "un mot de passe sûr", "first_name": "Cla\u{0}ire", "last_name": "Martin"],
                "/first_name"
            ),
            (
                "/v1/experts",
                ["email": "tab@example.fr", "password": "un mot de passe sûr", "first_name": "Claire", "last_name": "Mar\ttin"],
                "/last_name"
            ),
            (
                "/v1/experts",
                ["email": "pw@example.fr", "password": "un mot de\u{0} passe", "first_name": "Claire", "last_name": "Martin"], "/password"
            ),
        ] as [(String, [String: String], String)])
    func controlCharactersInTextAreRefusedWithAPointer(_ path: String, _ body: [String: String], _ pointer: String) async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let reply = try await client.send(.post, path, json: body)
            #expect(reply.status == .unprocessableContent && reply.pointers == [pointer])
        }
    }

    @Test func controlCharactersAreRefusedInEveryTextFieldButLineBreaksStayInFreeText() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            let title = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "A\u{0}B", "expert_id": p.expertID, "laureate_ids": [laureate.id]])
            #expect(title.status == .unprocessableContent && title.pointers == ["/title"])
            let note = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token,
                json: ["needs": [["subtheme": "4.2", "priority": "high", "description": "Ligne 1\nLigne 2\u{7}"]]])
            #expect(note.status == .unprocessableContent && note.pointers == ["/needs/0/description"])
            let multiline = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token,
                json: ["needs": [["subtheme": "4.2", "priority": "high", "description": "Ligne 1\r\n\tLigne 2"]]])
            #expect(multiline.status == .created)
        }
    }

    /// No text field is bounded only by the body's 1 MiB: such text is copied into webhook payloads, e-mails, exports
    /// and personal-data downloads. Free text holds at most 20 000 characters, a one-line field 1 000 (fields with a
    /// rule of their own, like titles, stay smaller).
    @Test func everyTextFieldIsBoundedWithAPointer() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            let long = String(repeating: "é", count: 20_001)
            let need = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token,
                json: ["needs": [["subtheme": "4.2", "priority": "high", "description": long]]])
            #expect(need.status == .unprocessableContent && need.code == "validation_failed" && need.pointers == ["/needs/0/description"])
            let fits = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token,
                json: ["needs": [["subtheme": "4.2", "priority": "high", "description": String(long.dropLast())]]])
            #expect(fits.status == .created)
            let mission = try await client.newMission(p, by: laureate, title: "t")
            let current = try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token)
            let decline = try await client.send(
                .post, "/v1/missions/\(mission)/transitions", token: p.expert, json: ["action": "decline", "comment": long],
                headers: [.ifMatch: current.etag ?? ""])
            #expect(decline.status == .unprocessableContent && decline.pointers == ["/comment"])
            let conflict = try await client.send(
                .post, "/v1/conflicts", token: p.admin, json: ["expert_id": p.expertID, "laureate_id": laureate.id, "reason": long])
            #expect(conflict.status == .unprocessableContent && conflict.pointers == ["/reason"])
            let name = try await client.send(
                .post, "/v1/experts",
                json: [
                    "email": "long@example.fr", "password": "un mot de passe sûr", "first_name": "Claire",
                    "last_name": String(repeating: "M", count: 1_001),
                ])
            #expect(name.status == .unprocessableContent && name.pointers == ["/last_name"])
            let after = try await client.send(.get, "/v1/missions/\(mission)", token: laureate.token)
            #expect(after.body["state"] as? String == "requested")
        }
    }

    /// A control character in a path or a query value (`%00`) names nothing: 404 for a path, 400 with the parameter's
    /// pointer for a query value, on both databases (PostgreSQL cannot compare text holding U+0000: it answered 500).
    @Test func aControlCharacterInAPathOrAQueryValueIsNotFoundOrRefusedNeverA500() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            for path in [
                "/v1/missions/%00", "/v1/laureates/%00", "/v1/documents/%00/content", "/v1/laureates/%00/documents",
                "/v1/missions/%00/events", "/v1/laureates/a%0Ab/team",
            ] {
                let reply = try await client.send(.get, path, token: p.admin)
                #expect(reply.status == .notFound && reply.code == "not_found", "\(path): \(reply.status)")
            }
            let member = try await client.send(
                .post, "/v1/laureates/%00/members", token: p.admin, json: ["email": "m@x.fr", "display_name": "M"])
            #expect(member.status == .notFound)
            for (query, pointer) in [("action=%00", "/action"), ("subject_id=a%00", "/subject_id"), ("laureate_id=%01", "/laureate_id")] {
                let reply = try await client.send(.get, "/v1/events?\(query)", token: p.admin)
                #expect(reply.status == .badRequest && reply.pointers == [pointer], "\(query): \(reply.status) \(reply.body)")
            }
            #expect(try await client.send(.get, "/v1/laureates/\(laureate.id)", token: p.admin).status == .ok)
            #expect(try await client.send(.get, "/v1/directory/experts?q=caf%C3%A9").status == .ok)
        }
    }

    /// HTTP's method rules on every operation of the contract: HEAD answers as GET without the body (caches, link
    /// checkers, monitors), and a method a path does not take is 405 with `Allow`, not 404 (which says no such path).
    @Test(arguments: [TestMode.router, .live])
    func headAnswersLikeGetAndAnotherMethodIs405WithAllow(_ mode: TestMode) async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(mode) { client in
            let get = try await client.send(.get, "/v1/directory/experts?limit=1")
            let head = try await client.send(.head, "/v1/directory/experts?limit=1")
            #expect(head.status == .ok && head.data.isEmpty && head.etag == get.etag && get.etag != nil)
            #expect(head.headers[.contentType] == get.headers[.contentType])
            let me = try await client.send(.head, "/v1/me", token: p.expert)
            #expect(me.status == .ok && me.data.isEmpty, "\(me.status) \(me.headers)")
            #expect(try await client.send(.head, "/v1/me").status == .unauthorized)
            #expect(try await client.send(.head, "/v1/missions/inconnue", token: p.admin).status == .notFound)

            let delete = try await client.send(.delete, "/v1/missions", token: p.admin)
            #expect(delete.status == .methodNotAllowed && delete.code == "method_not_allowed")
            #expect(delete.headers[.allow] == "GET, HEAD, POST")
            let options = try await client.send(.options, "/v1/missions", token: p.admin)
            #expect(options.status == .noContent && options.headers[.allow] == "GET, HEAD, POST, OPTIONS")
            let health = try await client.send(.head, "/health")
            #expect(health.status == .ok && health.headers[.contentType] == "application/json; charset=utf-8", "\(health.headers)")
            let put = try await client.send(.put, "/v1/me", token: p.expert)
            #expect(put.status == .methodNotAllowed && put.headers[.allow] == "GET, HEAD, PATCH")
            #expect(try await client.send(.post, "/v1/directory/experts").status == .methodNotAllowed)
            let taxonomy = try await client.send(.post, "/v1/taxonomy")
            #expect(taxonomy.status == .methodNotAllowed && taxonomy.headers[.contentType] == "application/problem+json")
            #expect(try await client.send(.get, "/v1/nulle-part").status == .notFound)
            // The connection still serves after those answers.
            #expect(try await client.send(.get, "/v1/directory/experts?limit=1").status == .ok)
        }
    }

    @Test func aMalformedBodyIsA400InPlainWordsWithAPointer() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            let reply = try await client.send(
                .post, "/v1/missions", token: laureate.token, json: ["title": 5, "expert_id": p.expertID, "laureate_ids": [laureate.id]])
            #expect(reply.status == .badRequest && reply.pointers == ["/title"])
            let text = String(decoding: reply.data, as: UTF8.self)
            #expect(!text.contains("DecodingError") && !text.contains("CodingKeys"))
        }
    }

    // MARK: Secrets never in clear

    /// An internal error (here a database refusal forced by a trigger) is answered with a 500 problem and logged without
    /// the bearer token, the request body or the statement's values.
    @Test func anInternalErrorLogsNeitherTheTokenNorTheBody() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let p = try Programme.make(directory: folder)
        let lines = LogLines()
        let sabotage = try DatabaseQueue(path: folder + "/mdp.sqlite")
        try await sabotage.write { db in
            try db.execute(sql: "CREATE TRIGGER sabotage BEFORE INSERT ON mission BEGIN SELECT RAISE(ABORT, 'forced failure'); END")
        }
        let secretTitle = "Titre très secret 7f3a"
        try await makeApplication(database: p.database, logger: lines.logger).test(.router) { client in
            let laureate = p.laureates[0]
            let reply = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": secretTitle, "expert_id": p.expertID, "laureate_ids": [laureate.id]])
            #expect(reply.status == .internalServerError && reply.code == "internal_error")
            let log = lines.all.joined(separator: "\n")
            #expect(log.contains("unexpected error"))
            #expect(!log.contains(laureate.token) && !log.contains(String(laureate.token.dropFirst(4))))
            #expect(!log.contains(secretTitle) && !log.lowercased().contains("authorization"))
        }
    }

    @Test func tokenIssuingAnswersAreNeverStoredForReplay() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "inscription-1"]
            let body = ["email": "nouvelle@example.fr", "password": "un mot de passe sûr", "first_name": "Anne", "last_name": "Neuve"]
            let first = try await client.send(.post, "/v1/experts", json: body, headers: key)
            #expect(first.status == .created)
            let token = try #require((first.body["session"] as? [String: Any])?["token"] as? String ?? first.body["token"] as? String)
            let retry = try await client.send(.post, "/v1/experts", json: body, headers: key)
            #expect(retry.status == .conflict && retry.code == "token_not_replayed")
            #expect(!String(decoding: retry.data, as: UTF8.self).contains(token))
            // A personal token, revoked, then its creation retried: no working token comes back.
            let tokenKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "jeton-1"]
            let created = try await client.send(
                .post, "/v1/me/tokens", token: token, json: ["name": "intégration", "expires_in_days": 30], headers: tokenKey)
            let personal = try #require(created.body["token"] as? String)
            let id = try #require((created.body["personal_token"] as? [String: Any])?["id"] as? String)
            #expect(try await client.send(.delete, "/v1/me/tokens/\(id)", token: token).status == .noContent)
            let again = try await client.send(
                .post, "/v1/me/tokens", token: token, json: ["name": "intégration", "expires_in_days": 30], headers: tokenKey)
            #expect(again.status == .conflict && !String(decoding: again.data, as: UTF8.self).contains(personal))
            // A login retried with the same key simply logs in again.
            let loginKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "connexion-1"]
            let login = ["email": "nouvelle@example.fr", "password": "un mot de passe sûr"]
            let one = try await client.send(.post, "/v1/auth/token", json: login, headers: loginKey)
            let two = try await client.send(.post, "/v1/auth/token", json: login, headers: loginKey)
            #expect(one.status == .created && two.status == .created && one.body["token"] as? String != two.body["token"] as? String)
        }
    }

    /// The write a keyed request makes marks its key as applied in the same transaction: with the answer lost (as a
    /// crash between the commit and the kept answer would leave it), the next start settles the key as done.
    @Test func aKeyedWriteMarksItsKeyAppliedInItsOwnTransaction() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let p = try Programme.make(directory: folder)
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "demande-1"]
            let reply = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "Foncier", "expert_id": p.expertID, "laureate_ids": [laureate.id]],
                headers: key)
            #expect(reply.status == .created)
        }
        let raw = try DatabaseQueue(path: folder + "/mdp.sqlite")
        try await raw.write { db in try db.execute(sql: "UPDATE idempotency SET status = NULL, headers = NULL, body = NULL") }
        let settled = try p.database.releaseUnfinishedIdempotencyKeys(answerLost: .init(status: 409, headers: [], body: Data()))
        #expect(settled.released == 0 && settled.settled == 1)
    }

    @Test func signUpsAreThrottledPerAddressLikeLogins() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for index in 0...10 {
                let body = ["email": "n\(index)@example.fr", "password": "un mot de passe sûr", "first_name": "A", "last_name": "B"]
                statuses.append(try await client.send(.post, "/v1/experts", json: body).status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == .created } && statuses.last == .tooManyRequests)
        }
    }

    @Test func behindATrustedProxyTheClientsAddressIsCountedNotTheProxys() async throws {
        let p = try Programme.make()
        func signUps(_ app: TestApplication, from addresses: [String]) async throws -> [HTTPResponse.Status] {
            try await app.test(.live) { client in
                var statuses: [HTTPResponse.Status] = []
                for (index, address) in addresses.enumerated() {
                    let body = [
                        "email": "\(UUID().uuidString.prefix(8))\(index)@example.fr", "password": "un mot de passe sûr", "first_name": "A",
                        "last_name": "B",
                    ]
                    statuses.append(
                        try await client.send(.post, "/v1/experts", json: body, headers: [HTTPField.Name("X-Real-IP")!: address]).status)
                }
                return statuses
            }
        }
        let behindProxy = try makeApplication(database: p.database, trustedProxies: ["127.0.0.1"])
        // Ten from one client use its allowance; another client behind the same proxy still signs up.
        let statuses = try await signUps(behindProxy, from: Array(repeating: "203.0.113.7", count: 11) + ["198.51.100.4"])
        #expect(statuses.prefix(10).allSatisfy { $0 == .created } && statuses[10] == .tooManyRequests && statuses[11] == .created)
        // A direct caller cannot dodge the limit by naming another address: the header is believed from proxies only.
        let direct = try await signUps(try makeApplication(database: p.database), from: (0...10).map { "192.0.2.\($0)" })
        #expect(direct.last == .tooManyRequests)
    }

    // MARK: The smaller ones

    @Test func anUploadRetriedWithTheSameKeyIsRecognisedByItsBytesNotItsLength() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            let uri = "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=note.txt"
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "envoi-1"]
            let first = try await client.upload(uri, token: laureate.token, bytes: Array("Première version\n".utf8), headers: key)
            let same = try await client.upload(uri, token: laureate.token, bytes: Array("Première version\n".utf8), headers: key)
            #expect(first.status == .created && same.status == .created && same.body["id"] as? String == first.body["id"] as? String)
            let other = try await client.upload(uri, token: laureate.token, bytes: Array("Deuxième version\n".utf8), headers: key)
            #expect(other.status == .unprocessableContent && other.code == "idempotency_key_reused")
        }
    }

    @Test func negativeEventNumbersAndVersionZeroAreBadParameters() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let events = try await client.send(.get, "/v1/events?after=-1", token: p.admin)
            #expect(events.status == .badRequest && events.pointers == ["/after"])
            let laureate = p.laureates[0]
            let uploaded = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=dossier.pdf", token: laureate.token, bytes: pdf)
            let id = try #require(uploaded.body["id"] as? String)
            #expect(try await client.send(.get, "/v1/documents/\(id)/content?version=0", token: laureate.token).status == .badRequest)
        }
    }

    @Test func aFramingNoteIsDatedByTheProgrammeClock() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let laureate = p.laureates[0]
            let reply = try await client.send(
                .post, "/v1/laureates/\(laureate.id)/framing-notes", token: laureate.token, json: ["needs": needs])
            #expect((reply.body["created_at"] as? String)?.hasPrefix("2023-06-01") == true)
        }
    }

    @Test func corsOnlyOnPublicEndpointsNosniffEverywhereAndNoOtherLaureateNamedInAConflict() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let origin: HTTPFields = [.origin: "https://francetierslieux.fr"]
            let summary = try await client.send(.get, "/v1/programme/summary", token: p.admin, headers: origin)
            #expect(summary.status == .ok && summary.headers[.accessControlAllowOrigin] == nil)
            let programme = try await client.send(.get, "/v1/programme", headers: origin)
            #expect(programme.headers[.accessControlAllowOrigin] == "*")
            #expect(programme.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let laureate = p.laureates[0]
            let html = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=page.html", token: laureate.token,
                bytes: Array("<html><script>alert(1)</script></html>\n".utf8))
            let id = try #require(html.body["id"] as? String)
            #expect(html.body["media_type"] as? String != "text/html")
            let download = try await client.send(.get, "/v1/documents/\(id)/content", token: laureate.token)
            #expect(download.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            #expect(download.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            // A conflict of interest with L2 refuses the pooled request without naming L2 to L1.
            try await client.note(laureate)
            let conflict = ["expert_id": p.expertID, "laureate_id": p.laureates[1].id, "reason": "Associé"]
            #expect(try await client.send(.post, "/v1/conflicts", token: p.admin, json: conflict).status == .noContent)
            let refused = try await client.send(
                .post, "/v1/missions", token: laureate.token,
                json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": [laureate.id, p.laureates[1].id]])
            #expect(refused.code == "conflict_of_interest" && !String(decoding: refused.data, as: UTF8.self).contains(p.laureates[1].id))
        }
    }
}

/// Log lines kept in memory, for tests that check what reaches the log.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(sink: self) }
    }

    struct Handler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append("\(event.level) \(event.message) \(merged)")
        }
    }
}
