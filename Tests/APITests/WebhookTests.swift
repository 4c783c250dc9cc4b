import API
import Domain
import Foundation
import HTTPTypes
import Notify
import Storage
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Signed webhooks (issue 13) against a real receiver that verifies every signature with the `standardwebhooks`
/// package (scripts/webhook-receiver.py, started by scripts/with-test-servers.sh).
@Suite("Webhooks", .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_WEBHOOKS"] != nil))
struct WebhookTests {
    /// One test's end of the shared receiver.
    struct Receiver {
        let name = "t" + UUID().uuidString.prefix(8).lowercased()
        let base = ProcessInfo.processInfo.environment["MDP_TEST_WEBHOOKS"] ?? ""
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MDP_TEST_WEBHOOKS_DIR"] ?? "/nonexistent")

        /// The host the subscription names (the receiver listens on 127.0.0.1).
        var host = "127.0.0.1"

        var url: String { "\(base.replacingOccurrences(of: "127.0.0.1", with: host))/hook/\(name)" }

        func tell(_ what: String, _ value: String) async throws {
            var request = URLRequest(url: URL(string: "\(base)/__\(what)/\(name)")!)
            request.httpMethod = "POST"
            request.httpBody = Data(value.utf8)
            _ = try await URLSession.shared.data(for: request)
        }

        struct Received: Decodable {
            let headers: [String: String]
            let body: String
            let verified: Bool
            let mode: String
            var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
        }

        func received() throws -> [Received] {
            let directory = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted().map {
                try JSONDecoder().decode(Received.self, from: Data(contentsOf: directory.appendingPathComponent($0)))
            }
        }
    }

    /// The receiver lives on this machine: the tests' workers allow private networks, as an installation whose
    /// receivers are inside its own network does.
    func worker(_ p: Programme, timeout: TimeInterval = 2, allowPrivateNetworks: Bool = true) throws -> NoticeDelivery {
        NoticeDelivery(
            database: p.database, mail: nil, sender: try MailAddress(email: "equipe@ftl.fr"), appURL: "https://mdp.example.fr",
            webhooks: CurlWebhookPoster(timeout: timeout, allowPrivateNetworks: allowPrivateNetworks),
            render: WebhookPayloads.renderer(p.database))
    }

    /// By default a webhook goes to the public internet only: a subscription aimed at the server's own machine, by
    /// address or by a name that resolves to it, gets nothing sent (no request reaches the receiver) and the team reads
    /// why on the delivery.
    @Test(arguments: ["127.0.0.1", "localhost"])
    func aReceiverOnTheServersOwnMachineIsRefusedUnlessPrivateNetworksAreAllowed(_ host: String) async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        let receiver = Receiver()
        try await makeApplication(database: p.database).test(.router) { client in
            var aimed = receiver
            aimed.host = host
            _ = try await subscribe(client, p, aimed, to: ["mission.requested"])
            try await client.note(laureate)
            _ = try await client.newMission(p, by: laureate, title: "Adresse interne")
            #expect(try await worker(p, allowPrivateNetworks: false).runOnce().webhooksPostponed == 1)
            #expect(try receiver.received().isEmpty)
            let waiting = try await client.send(.get, "/v1/webhook-deliveries?state=waiting", token: p.admin)
            let delivery = try #require((waiting.body["items"] as? [[String: Any]])?.first)
            let error = delivery["last_error"] as? String ?? ""
            #expect(error.contains("not on the public internet") && error.contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS"), "\(error)")
            // Allowed, the same delivery goes out once its backoff ends.
            p.clock.advance(by: 120)
            #expect(try await worker(p).runOnce().webhooksDelivered == 1)
            #expect(try receiver.received().count == 1)
        }
    }

    /// Subscribes the receiver through the API and hands it the secret; returns the subscription's id.
    func subscribe(_ client: some TestClientProtocol, _ p: Programme, _ receiver: Receiver, to events: [String]) async throws -> String {
        let created = try await client.send(
            .post, "/v1/webhook-subscriptions", token: p.admin,
            json: ["url": receiver.url, "event_types": events, "description": "CRM du réseau régional"])
        #expect(created.status == .created)
        let secret = try #require(created.body["secret"] as? String)
        #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))?.count == 24)
        try await receiver.tell("secret", secret)
        return try #require((created.body["subscription"] as? [String: Any])?["id"] as? String)
    }

    /// Link-local addresses (cloud metadata services), however written, are never reached, whatever the setting; the
    /// delivery says so rather than suggesting a setting that would not help.
    @Test func aLinkLocalReceiverIsNeverReachedWhateverTheSetting() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let created = try await client.send(
                .post, "/v1/webhook-subscriptions", token: p.admin,
                json: ["url": "http://[::ffff:169.254.169.254]/latest/meta-data", "event_types": ["mission.requested"]])
            #expect(created.status == .created)
            try await client.note(laureate)
            _ = try await client.newMission(p, by: laureate, title: "Métadonnées")
            #expect(try await worker(p, allowPrivateNetworks: true).runOnce().webhooksPostponed == 1)
            let waiting = try await client.send(.get, "/v1/webhook-deliveries?state=waiting", token: p.admin)
            let error = (waiting.body["items"] as? [[String: Any]])?.first?["last_error"] as? String ?? ""
            #expect(error.contains("link-local") && !error.contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS"), "\(error)")
        }
    }

    @Test func anEventArrivesSignedWithTheMissionAsTheTeamReadsIt() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        let receiver = Receiver()
        try await makeApplication(database: p.database).test(.router) { client in
            let subscription = try await subscribe(client, p, receiver, to: ["mission.requested", "mission.proposed"])
            // The secret is shown once: never listed, never read back.
            let listed = try await client.send(.get, "/v1/webhook-subscriptions", token: p.admin)
            #expect(!String(decoding: listed.data, as: UTF8.self).contains("whsec_"))
            #expect(try await client.send(.get, "/v1/webhook-subscriptions/\(subscription)", token: p.admin).body["secret"] == nil)

            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "Atelier partagé")
            #expect(try await worker(p).runOnce().webhooksDelivered == 1)
            let first = try #require(try receiver.received().first)
            #expect(first.verified && first.headers["content-type"] == "application/json")
            #expect(first.headers["webhook-id"]?.hasPrefix("msg_") == true)
            #expect(first.json["type"] as? String == "mission.requested")
            let data = try #require(first.json["data"] as? [String: Any])
            let read = try await client.send(.get, "/v1/missions/\(mission)", token: p.admin)
            #expect(data["id"] as? String == mission && data["title"] as? String == read.body["title"] as? String)
            // The same JSON as the team reads, key for key (compared as canonical JSON text).
            let canonical = { (object: [String: Any]) in
                String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
            }
            #expect(canonical(data) == canonical(read.body))

            // Only the events subscribed to: the scope step sends none, the proposal one, the acceptance none.
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin)
            _ = try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin)
            #expect(try await worker(p).runOnce().webhooksDelivered == 1)
            let all = try receiver.received()
            #expect(all.map { $0.json["type"] as? String } == ["mission.requested", "mission.proposed"] && all.allSatisfy(\.verified))
            #expect(Set(all.compactMap { $0.headers["webhook-id"] }).count == 2)
            // The proposal's event carries the mission as the proposal left it, though it was accepted before delivery.
            #expect((all.last?.json["data"] as? [String: Any])?["state"] as? String == "proposed")
        }
    }

    @Test func aReceiverThatFailsThenTimesOutThenComesBackGetsTheSameMessage() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        let receiver = Receiver()
        try await makeApplication(database: p.database).test(.router) { client in
            _ = try await subscribe(client, p, receiver, to: ["mission.requested"])
            try await client.note(laureate)
            _ = try await client.newMission(p, by: laureate, title: "Récepteur capricieux")
        }
        try await receiver.tell("mode", "fail")
        #expect(try await worker(p).runOnce().webhooksPostponed == 1)
        try await receiver.tell("mode", "slow")
        p.clock.advance(by: 60)
        #expect(try await worker(p).runOnce().webhooksPostponed == 1)
        try await receiver.tell("mode", "ok")
        // Not before its backoff ends.
        #expect(try await worker(p).runOnce().webhooksDelivered == 0)
        p.clock.advance(by: 120)
        #expect(try await worker(p).runOnce().webhooksDelivered == 1)
        #expect(try await worker(p).runOnce().webhooksDelivered == 0)
        let received = try receiver.received()
        #expect(received.map(\.mode) == ["fail", "slow", "ok"] && received.allSatisfy(\.verified))
        #expect(Set(received.compactMap { $0.headers["webhook-id"] }).count == 1 && Set(received.map(\.body)).count == 1)
    }

    @Test func aReceiverThatHangsIsTriedOncePerPassAndHoldsNoOtherBack() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let (slow, healthy) = (Receiver(), Receiver())
        try await slow.tell("mode", "slow")
        try await makeApplication(database: p.database).test(.router) { client in
            _ = try await subscribe(client, p, slow, to: ["mission.requested"])
            _ = try await subscribe(client, p, healthy, to: ["mission.requested"])
            try await client.note(p.laureates[0])
            for index in 0..<3 { _ = try await client.newMission(p, by: p.laureates[0], title: "Demande \(index)") }
        }
        let report = try await worker(p).runOnce()
        #expect(report.webhooksDelivered == 3 && report.webhooksPostponed == 3, "\(report)")
        #expect(try healthy.received().count == 3 && slow.received().count == 1)
    }

    @Test func afterThreeDaysOfFailuresADeliveryIsListedAsFailedAndReplayed() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let laureate = p.laureates[0]
        let receiver = Receiver()
        try await receiver.tell("mode", "fail")
        try await makeApplication(database: p.database).test(.router) { client in
            _ = try await subscribe(client, p, receiver, to: ["mission.requested"])
            try await client.note(laureate)
            _ = try await client.newMission(p, by: laureate, title: "Trois jours")
            var report = NoticeDelivery.Report()
            for _ in 0..<40 where report.webhooksFailed == 0 {
                report = try await worker(p).runOnce()
                p.clock.advance(by: 6 * 3_600)
            }
            #expect(report.webhooksFailed == 1)
            let failed = try await client.send(.get, "/v1/webhook-deliveries?state=failed", token: p.admin)
            let items = try #require(failed.body["items"] as? [[String: Any]])
            #expect(items.count == 1 && items[0]["last_status"] as? Int == 500 && (items[0]["attempts"] as? Int ?? 0) > 10)
            let id = try #require(items[0]["id"] as? String)
            let createdAt = try #require(items[0]["created_at"] as? String)
            #expect(try await client.send(.post, "/v1/webhook-deliveries/\(id)/replay", token: laureate.token).status == .forbidden)
            try await receiver.tell("mode", "ok")
            let replayed = try await client.send(.post, "/v1/webhook-deliveries/\(id)/replay", token: p.admin)
            #expect(replayed.status == .accepted && replayed.body["state"] as? String == "waiting")
            // The event's time stays; the last failure is not shown on a delivery waiting again.
            #expect(replayed.body["created_at"] as? String == createdAt && replayed.body["last_status"] == nil)
            #expect(try await worker(p).runOnce().webhooksDelivered == 1)
            #expect(try receiver.received().last?.headers["webhook-id"] == id)
            let delivered = try await client.send(.get, "/v1/webhook-deliveries?state=delivered", token: p.admin)
            #expect((delivered.body["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        }
    }

    @Test func onlyTheTeamManagesSubscriptionsAndMistakesArePointedAt() async throws {
        let p = try Programme.make(ceilings: [1_000_000])
        let receiver = Receiver()
        try await makeApplication(database: p.database).test(.router) { client in
            let body: [String: Any] = ["url": receiver.url, "event_types": ["mission.requested"]]
            for token in [p.expert, p.laureates[0].token] {
                #expect(try await client.send(.get, "/v1/webhook-subscriptions", token: token).status == .forbidden)
                #expect(try await client.send(.post, "/v1/webhook-subscriptions", token: token, json: body).status == .forbidden)
                #expect(try await client.send(.get, "/v1/webhook-deliveries", token: token).status == .forbidden)
            }
            #expect(try await client.send(.get, "/v1/webhook-subscriptions").status == .unauthorized)
            // A forged cursor with a moment no database holds is refused, not stored.
            let forged = Data(#"{"at":1e300,"id":"x"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            let farCursor = try await client.send(.get, "/v1/webhook-deliveries?cursor=\(forged)", token: p.admin)
            #expect(farCursor.status == .badRequest && farCursor.pointers == ["/cursor"])
            let zero = try await client.send(.get, "/v1/webhook-subscriptions?limit=0", token: p.admin)
            #expect(zero.status == .badRequest && zero.pointers == ["/limit"])
            // The secret is shown once: a retry with the same Idempotency-Key is told the first succeeded, never given it.
            let once: HTTPFields = [.idempotencyKey: "subscribe-once"]
            let first = try await client.send(.post, "/v1/webhook-subscriptions", token: p.admin, json: body, headers: once)
            let retry = try await client.send(.post, "/v1/webhook-subscriptions", token: p.admin, json: body, headers: once)
            #expect(first.status == .created && retry.status == .conflict && retry.code == "token_not_replayed")
            #expect(!String(decoding: retry.data, as: UTF8.self).contains("whsec_"))
            let made = try #require((first.body["subscription"] as? [String: Any])?["id"] as? String)
            #expect(try await client.send(.delete, "/v1/webhook-subscriptions/\(made)", token: p.admin).status == .noContent)
            for (bad, pointer) in [
                (["url": "ftp://x.example", "event_types": ["mission.requested"]], "/url"),
                (["url": "https://u:p@x.example/h", "event_types": ["mission.requested"]], "/url"),
                (["url": receiver.url, "event_types": [String]()], "/event_types"),
            ]
                + [
                    "http://127.0.0.1:8391/crlf\r\nX-Injected: 1", "https://example.fr:99999/x", "https://exämple.fr/ü?q=é",
                    "http://127.0.0.1:0/x", "https://x.example/h#fragment", "http://x.example/a b", "https:///nohost",
                ].map({ (["url": $0, "event_types": ["mission.requested"]], "/url") }) as [([String: Any], String)]
            {
                let refused = try await client.send(.post, "/v1/webhook-subscriptions", token: p.admin, json: bad)
                #expect(refused.status == .unprocessableContent && refused.pointers == [pointer], "\(bad)")
            }
            let reminder = try await client.send(
                .post, "/v1/webhook-subscriptions", token: p.admin, json: ["url": receiver.url, "event_types": ["reminder.review_overdue"]])
            #expect(reminder.status == .badRequest)

            // Paused: deliveries wait; resumed: they go; deleted: gone with its deliveries.
            let id = try await subscribe(client, p, receiver, to: ["mission.requested"])
            let etag = try #require(try await client.send(.get, "/v1/webhook-subscriptions/\(id)", token: p.admin).etag)
            let paused = try await client.send(
                .patch, "/v1/webhook-subscriptions/\(id)", token: p.admin, json: ["active": false], headers: [.ifMatch: etag])
            #expect(paused.status == .ok && paused.body["active"] as? Bool == false)
            try await client.note(p.laureates[0])
            _ = try await client.newMission(p, by: p.laureates[0], title: "En pause")
            #expect(try await worker(p).runOnce().webhooksDelivered == 0)
            let stale = try await client.send(
                .patch, "/v1/webhook-subscriptions/\(id)", token: p.admin, json: ["active": true], headers: [.ifMatch: etag])
            #expect(stale.status == .preconditionFailed)
            let badPatch = try await client.send(
                .patch, "/v1/webhook-subscriptions/\(id)", token: p.admin, json: ["url": "http://x.example/\r\n"],
                headers: [.ifMatch: paused.etag ?? ""])
            #expect(badPatch.status == .unprocessableContent && badPatch.pointers == ["/url"])
            // A change that changes nothing keeps the version.
            let same = try await client.send(
                .patch, "/v1/webhook-subscriptions/\(id)", token: p.admin, json: ["active": false], headers: [.ifMatch: paused.etag ?? ""])
            #expect(same.status == .ok && same.etag == paused.etag)
            _ = try await client.send(
                .patch, "/v1/webhook-subscriptions/\(id)", token: p.admin, json: ["active": true], headers: [.ifMatch: paused.etag ?? ""])
            #expect(try await worker(p).runOnce().webhooksDelivered == 1)
            #expect(try await client.send(.delete, "/v1/webhook-subscriptions/\(id)", token: p.admin).status == .noContent)
            #expect(try await client.send(.get, "/v1/webhook-subscriptions/\(id)", token: p.admin).status == .notFound)
            #expect((try await client.send(.get, "/v1/webhook-deliveries", token: p.admin).body["items"] as? [Any])?.isEmpty == true)
        }
    }
}
