import API
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

/// What an operator relies on: request ids, metrics, readiness, and documentation served by the binary itself.
@Suite("Operations: request ids, metrics, docs")
struct OperationsTests {
    static let requestID = HTTPField.Name("X-Request-Id")!

    @Test func aRequestIDIsMadeOrTakenAndEchoedInTheAnswerAndItsProblemDocument() async throws {
        try await makeApplication().test(.router) { client in
            let made = try await client.send(.get, "/v1/missions")
            #expect(made.status == .unauthorized)
            let id = try #require(made.headers[Self.requestID])
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            #expect(made.body["request_id"] as? String == id)

            let browser = try await client.send(.get, "/v1/taxonomy", headers: [.origin: "https://www.francetierslieux.fr"])
            #expect(browser.headers[.accessControlExposeHeaders]?.contains("X-Request-Id") == true)
            let taken = try await client.send(.get, "/v1/missions", headers: [Self.requestID: "lb-7f3a:42"])
            #expect(taken.headers[Self.requestID] == "lb-7f3a:42")
            #expect(taken.body["request_id"] as? String == "lb-7f3a:42")

            // An id that could forge log lines or headers is replaced, not echoed.
            for forged in ["a b", String(repeating: "x", count: 129), "id\"}", "é"] {
                let reply = try await client.send(.get, "/health", headers: [Self.requestID: forged])
                #expect(reply.status == .ok)
                #expect(reply.headers[Self.requestID] != forged)
                #expect(reply.headers[Self.requestID]?.count == 32)
            }
            // Each request its own id.
            let again = try await client.send(.get, "/v1/missions")
            #expect(again.headers[Self.requestID] != id)
            // A route that does not exist, and a body that is not JSON: their problems carry the id too.
            let missing = try await client.send(.get, "/v1/nowhere", headers: [Self.requestID: "r-404"])
            #expect(missing.status == .notFound && missing.body["request_id"] as? String == "r-404")
            let malformed = try await client.execute(
                uri: "/v1/auth/token", method: .post, headers: [.contentType: "application/json", Self.requestID: "r-400"],
                body: ByteBuffer(string: "{not json")
            ) { Reply(status: $0.status, headers: $0.headers, data: Data(buffer: $0.body)) }
            #expect(malformed.status == .badRequest && malformed.body["request_id"] as? String == "r-400")
        }
    }

    @Test func metricsCountRequestsByOperationAndStatusWithLatencyDatabaseTimeAndQueues() async throws {
        let cast = try Cast.make()
        try await makeApplication(database: cast.database).test(.router) { client in
            for _ in 0..<3 { _ = try await client.send(.get, "/v1/directory/experts?limit=2") }
            _ = try await client.send(.get, "/v1/missions")
            _ = try await client.send(.get, "/v1/missions", token: cast.laureate)
            let reply = try await client.send(.get, "/metrics")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(decoding: reply.data, as: UTF8.self)
            #expect(text.contains(#"mdp_http_requests_total{operation="searchDirectory",status="200"} 3"#))
            #expect(text.contains(#"mdp_http_requests_total{operation="listMissions",status="401"} 1"#))
            #expect(text.contains(#"mdp_http_requests_total{operation="listMissions",status="200"} 1"#))
            #expect(text.contains(#"mdp_http_request_duration_seconds_count{operation="searchDirectory"} 3"#))
            #expect(text.contains(#"mdp_http_request_duration_seconds_bucket{operation="listMissions",le="+Inf"} 2"#))
            let databaseCount = text.split(separator: "\n").first { $0.hasPrefix("mdp_database_duration_seconds_count ") }
            #expect((databaseCount?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 2)
            #expect(text.contains(#"mdp_outbox_notices{state="waiting"}"#))
            #expect(text.contains(#"mdp_outbox_notices{state="failed"}"#))
            #expect(text.contains(#"mdp_webhook_deliveries{state="failed"}"#))
            #expect(text.contains("mdp_database_up 1"))
        }
    }

    @Test func whatAClientSendsCannotGrowTheMetricsLabels() async throws {
        try await makeApplication().test(.router) { client in
            var sent: [String] = []
            for _ in 0..<10 {
                let made = "x\(UUID().uuidString.prefix(8).lowercased())"
                sent.append(made)
                _ = try await client.send(.get, "/v1/\(made)")
                _ = try await client.send(.get, "/v1/missions/\(made)")
                _ = try await client.send(HTTPRequest.Method("BREW\(made.prefix(4).uppercased())")!, "/v1/missions")
            }
            let text = String(decoding: try await client.send(.get, "/metrics").data, as: UTF8.self)
            for made in sent { #expect(!text.contains(made) && !text.contains("BREW")) }
            #expect(text.contains(#"mdp_http_requests_total{operation="unmatched",status="404"} 10"#))
            // A made-up method on a path of the contract is 405, counted as unmatched too.
            #expect(text.contains(#"mdp_http_requests_total{operation="unmatched",status="405"} 10"#))
            #expect(text.contains(#"mdp_http_requests_total{operation="getMission",status="401"} 10"#))
        }
    }

    @Test func anInstanceWhoseDatabaseFileWasDeletedIsNotReady() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ready-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try AppDatabase.file(inDirectory: folder.path, options: .init(bcryptCost: 4))
        try await makeApplication(database: database).test(.router) { client in
            #expect(try await client.send(.get, "/ready").status == .ok)
            #expect(try await client.send(.head, "/ready").status == .ok)
            // Another file put in its place (a copy: the same bytes, another inode) is not the one this server writes to.
            let file = folder.appendingPathComponent("mdp.sqlite")
            let aside = folder.appendingPathComponent("aside.sqlite")
            try FileManager.default.moveItem(at: file, to: aside)
            try FileManager.default.copyItem(at: aside, to: file)
            let replaced = try await client.send(.get, "/ready")
            #expect(replaced.status == .serviceUnavailable && replaced.code == "storage_unavailable")
            try FileManager.default.removeItem(at: file)
            let reply = try await client.send(.get, "/ready")
            #expect(reply.status == .serviceUnavailable && reply.code == "storage_unavailable")
            #expect(try await client.send(.get, "/health").status == .ok)
            #expect(try await client.send(.head, "/health").status == .ok)
            #expect(try await client.send(.head, "/ready").status == .serviceUnavailable)
        }
    }

    @Test func withATokenSetMetricsAnswerOnlyTheScraperThatBearsIt() async throws {
        try await makeApplication(metricsToken: "scrape-secret-123").test(.router) { client in
            #expect(try await client.send(.get, "/metrics").status == .unauthorized)
            #expect(try await client.send(.get, "/metrics", token: "wrong").status == .unauthorized)
            #expect(try await client.send(.get, "/metrics", token: "scrape-secret-12").status == .unauthorized)
            let reply = try await client.send(.get, "/metrics", token: "scrape-secret-123")
            #expect(reply.status == .ok)
            let lowercase = try await client.send(.get, "/metrics", headers: [.authorization: "bearer scrape-secret-123"])
            #expect(lowercase.status == .ok)
            #expect(String(decoding: reply.data, as: UTF8.self).contains("mdp_http_requests_total"))
        }
    }

    @Test func theDocsPageIsServedWholeNamingEveryOperationWithItsRolesAndAnExampleAndNothingFromAnotherHost() async throws {
        let contract = try String(contentsOf: Self.contractFile, encoding: .utf8)
        let operations = contract.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("operationId: ") ? String(trimmed.dropFirst("operationId: ".count)) : nil
        }
        #expect(operations.count > 50)
        try await makeApplication().test(.router) { client in
            let reply = try await client.send(.get, "/docs")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "text/html; charset=utf-8")
            let page = String(decoding: reply.data, as: UTF8.self)
            for operation in operations {
                #expect(page.contains("<section class=\"op\" id=\"\(operation)\">"), "\(operation) is not on /docs")
            }
            // One section per operation, each with its roles, responses and an example.
            let sections = page.components(separatedBy: "<section class=\"op\" id=\"").dropFirst().filter { !$0.hasPrefix("schema-") }
            #expect(sections.count == operations.count)
            for section in sections {
                #expect(section.contains("<strong>Roles:</strong>") && !section.contains("see the description"))
                #expect(section.contains("<h4>Responses</h4>") && section.contains("<h4>Example</h4>"))
            }
            #expect(page.contains("requestMission") && page.contains("<code>Idempotency-Key</code>"))
            // Examples a shell runs as they are: the token expands, required parameters and If-Match are there.
            func example(_ operation: String) -> String {
                let section = page.components(separatedBy: "<section class=\"op\" id=\"\(operation)\">").last ?? ""
                return section.components(separatedBy: "</pre>").first ?? ""
            }
            #expect(example("listMissions").contains("-H &quot;Authorization: Bearer $TOKEN&quot;"))
            #expect(example("uploadDossierDocument").contains("?kind=application&amp;file_name=FILE_NAME"))
            #expect(example("transitionMission").contains("-H &#39;If-Match: &quot;ETAG&quot;&#39;"))
            // Nothing loads from elsewhere: no script at all, no stylesheet or image from another host.
            #expect(!page.contains("<script"))
            #expect(!page.contains("src=\"http") && !page.contains("rel=\"stylesheet\""))
            #expect(reply.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
        }
    }

    static var contractFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../openapi.yaml").standardized
    }
}
