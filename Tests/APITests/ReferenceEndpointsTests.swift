import API
import Foundation
import Hummingbird
import Storage
import Testing

@Suite("Reference endpoints through the router")
struct ReferenceEndpointsTests {
    @Test func healthSaysTheProcessIsAliveAndReadySaysItsDatabaseServes() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["status"] as? String == "ok")
                #expect(body["database"] == nil)
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["status"] as? String == "ready")
                #expect((body["migrations"] as? Int ?? 0) > 10)
                #expect(["sqlite", "postgresql"].contains(body["database"] as? String ?? ""))
            }
        }
    }

    @Test func theTaxonomyListsTwelveThemesWithTheirThirtySevenSubthemesInSnakeCase() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/taxonomy", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let themes = try #require(try json(response.body)["themes"] as? [[String: Any]])
                #expect(themes.count == 12)
                #expect(themes.flatMap { $0["subthemes"] as? [[String: Any]] ?? [] }.count == 37)
                #expect(themes.first?["label_fr"] as? String == "Stratégie foncière")
                let first = try #require((themes.first?["subthemes"] as? [[String: Any]])?.first)
                #expect(first["theme_code"] as? String == "1")
                #expect((first["details_fr"] as? String)?.hasPrefix("méthode, bilan d'opération") == true)
            }
        }
    }

    @Test func territoriesListEighteenRegionsWithTheirOneHundredAndOneDepartements() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/territories", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response.body)
                let regions = try #require(body["regions"] as? [[String: Any]])
                #expect(regions.count == 18)
                let departments = regions.flatMap { $0["departments"] as? [[String: Any]] ?? [] }
                #expect(departments.count == 101)
                let corsica = try #require(regions.first { $0["code"] as? String == "94" })
                #expect((corsica["departments"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["2A", "2B"])
                #expect(
                    (body["territory_types"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == [
                        "rural", "small_or_medium_town", "qpv",
                    ])
            }
        }
    }

    @Test(arguments: ["/v1/taxonomy", "/v1/territories", "/v1/programme"])
    func referenceDataIsCacheableAndRevalidatesWithNotModified(_ path: String) async throws {
        try await makeApplication().test(.router) { client in
            let etag = try await client.execute(uri: path, method: .get) { response in
                #expect(response.headers[.cacheControl] == "public, max-age=3600")
                let tag = try #require(response.headers[.eTag])
                #expect(tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count == 18)
                return tag
            }
            try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: "\"other\", \(etag)"]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == etag)
            }
            try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: "\"stale\""]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func theProgrammeSettingsAreServed() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/programme", method: .get) { response in
                let body = try json(response.body)
                #expect(body["support_ceilings"] as? [Int] == [1_000_000, 1_500_000, 2_000_000])
                #expect((body["window"] as? [String: String]) == ["start": "2023-02-01", "end": "2024-12-31"])
                #expect((body["cohorts"] as? [Any])?.count == 6)
            }
        }
    }

    @Test(arguments: [("/v1/nothing-here", "GET"), ("/v1/nothing-here", "POST"), ("/v1/taxonomy/%ZZ", "GET")])
    func unknownResourcesGetAProblemDocumentNotAnEmptyPage(_ path: String, _ method: String) async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: path, method: .init(method)!) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try json(response.body)
                #expect(body["code"] as? String == "not_found")
                #expect(body["status"] as? Int == 404)
                #expect((body["type"] as? String)?.hasSuffix("/not_found") == true)
            }
        }
    }

    @Test func theContractAndItsDocsAreServed() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("openapi: 3.1"))
            }
            try await client.execute(uri: "/docs", method: .get) { response in
                #expect(String(buffer: response.body).contains("href=\"/openapi.yaml\""))
            }
        }
    }
}

@Suite("A live server on a real socket")
struct LiveServerTests {
    @Test func aLiveServerAnswersOverTCP() async throws {
        try await makeApplication().test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/taxonomy", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] != nil)
            }
        }
    }
}
