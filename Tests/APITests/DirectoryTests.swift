import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

@Suite("The public directory")
struct DirectoryTests {
    /// Query strings as people and tools write them: an empty pair (`?&`, `&&`) is nothing, a name without `=` is an
    /// empty value; neither may answer 500 (the generated parser refuses both).
    @Test func oddQueryStringsAreReadOrRefusedNeverA500() async throws {
        let database = try Self.seeded()
        try await makeApplication(database: database).test(.router) { client in
            for query in ["?&limit=1", "?limit=1&&q=bois", "?&", "?", "?limit=1&"] {
                let reply = try await client.send(.get, "/v1/directory/experts" + query)
                #expect(reply.status == .ok, "\(query)")
            }
            let paged = try await client.send(.get, "/v1/directory/experts?&&limit=1")
            #expect((paged.body["items"] as? [Any])?.count == 1)
            for query in ["?facets&q=bois", "?limit"] {
                let reply = try await client.send(.get, "/v1/directory/experts" + query)
                #expect(reply.status == .badRequest && reply.code == "invalid_parameter", "\(query)")
            }
            #expect(try await client.send(.get, "/v1/missions?&limit=1").status == .unauthorized)
        }
    }

    /// A small directory: three published experts, one submitted, one draft.
    static func seeded() throws -> AppDatabase {
        let database = try AppDatabase.throwaway()
        try database.importExpert(
            sampleCard(
                first: "Élodie", last: "Müller", email: "elodie@bois.fr",
                summary: "Aménagement d'ateliers et choix d'équipement machines pour le bois.",
                subthemes: ["5.1", "12.1"], coverage: Coverage(regionCodes: ["11"]), sectors: ["Bois"],
                publication: .init(email: true, phone: false, website: true)), state: .published)
        try database.importExpert(
            sampleCard(
                first: "Karim", last: "Benali", email: "karim@textile.fr", summary: "Gouvernance partagée des communs textiles.",
                subthemes: ["3.2", "12.2"], coverage: Coverage(departmentCodes: ["69", "42"], remote: true), sectors: ["textile"]),
            state: .published)
        try database.importExpert(
            sampleCard(
                first: "Anne", last: "Zed", email: "anne@national.fr", summary: "Modèles économiques, partout en France.",
                subthemes: ["4.2"],
                coverage: Coverage(national: true), sectors: ["numérique"]), state: .published)
        try database.importExpert(
            sampleCard(first: "Sam", last: "Submitted", email: "sam@wait.fr", summary: "bois bois bois", subthemes: ["5.1"]),
            state: .submitted)
        try database.importExpert(sampleCard(first: "Dan", last: "Draft", email: "dan@draft.fr", summary: "bois"), state: .draft)
        return database
    }

    func slugs(_ reply: Reply) -> [String] { (reply.body["items"] as? [[String: Any]] ?? []).compactMap { $0["slug"] as? String } }

    @Test func onlyPublishedExpertsAreListedInNameOrder() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            let reply = try await client.send(.get, "/v1/directory/experts")
            #expect(reply.status == .ok && reply.body["total"] as? Int == 3)
            #expect(slugs(reply) == ["karim-benali", "elodie-muller", "anne-zed"])
        }
    }

    @Test func textSearchIgnoresCaseAndAccentsAndMatchesPrefixes() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            for (query, expected) in [
                ("equipement", ["elodie-muller"]), ("ÉQUIPEMENT", ["elodie-muller"]), ("muller", ["elodie-muller"]),
                ("müll", ["elodie-muller"]), ("gouvernance communs", ["karim-benali"]), ("bois", ["elodie-muller"]),
                ("modele econ", ["anne-zed"]), ("nothing-like-this", []),
            ] {
                let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let reply = try await client.send(.get, "/v1/directory/experts?q=\(encoded)")
                #expect(slugs(reply) == expected, "\(query)")
            }
        }
    }

    @Test func aPrefixOfAHyphenatedRegionNameFindsIt() throws {
        let content = sampleCard(email: "x@y.fr", summary: "Accompagne les tiers-lieux d'Île-de-France.")
        let expert = PublicExpert(id: "1", slug: "x", content: content, publishedAt: Date())
        let index = DirectoryIndex(experts: [expert], revision: 1)
        #expect(index.search(DirectoryQuery(text: "ile-de"), limit: 10).total == 1)
        #expect(index.search(DirectoryQuery(text: "ile-de-fr"), limit: 10).total == 1)
        #expect(index.search(DirectoryQuery(text: "ile-de-bretagne"), limit: 10).total == 0)
    }

    @Test func searchSyntaxTypedByAUserIsInert() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            for hostile in ["\"", "*", "bois OR", "NEAR(", "'; DROP TABLE expert; --", "%", "\\", "bois*"] {
                let encoded = hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let reply = try await client.send(.get, "/v1/directory/experts?q=\(encoded)")
                #expect(reply.status == .ok, "\(hostile)")
            }
            #expect(try await client.send(.get, "/v1/directory/experts").body["total"] as? Int == 3)
        }
    }

    @Test func relevanceOrdersATextSearchNameFirst() throws {
        let a = PublicExpert(
            id: "a", slug: "a", content: sampleCard(first: "Aline", last: "Bois", email: "a@a.fr", summary: "x"), publishedAt: Date())
        let b = PublicExpert(
            id: "b", slug: "b", content: sampleCard(first: "Bea", last: "Autre", email: "b@b.fr", summary: "le bois"), publishedAt: Date())
        let index = DirectoryIndex(experts: [b, a], revision: 1)
        #expect(index.search(DirectoryQuery(text: "bois"), limit: 10).items.map(\.slug) == ["a", "b"])
    }

    @Test func filtersCombineAndAnExpertCoversItsDepartementsRegionOrTheNation() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            let cases: [(String, [String])] = [
                ("department=75", ["elodie-muller", "anne-zed"]),
                ("department=42", ["karim-benali", "anne-zed"]),
                ("region=84", ["karim-benali", "anne-zed"]),
                ("region=11&subtheme=5.1", ["elodie-muller"]),
                ("subtheme=3.2&subtheme=4.2", ["karim-benali", "anne-zed"]),
                ("theme=12", ["karim-benali", "elodie-muller"]),
                ("theme=12&department=69", ["karim-benali"]),
                ("remote=true", ["karim-benali"]),
                ("sector=bois", ["elodie-muller"]),
                ("sector=numerique", ["anne-zed"]),
                ("q=bois&region=84", []),
            ]
            for (query, expected) in cases {
                let reply = try await client.send(.get, "/v1/directory/experts?\(query)")
                #expect(slugs(reply) == expected, "\(query)")
            }
        }
    }

    @Test func pagesNeverRepeatOrSkipAnExpert() async throws {
        let database = try AppDatabase.throwaway()
        for index in 0..<23 {
            try database.importExpert(
                sampleCard(first: "Prénom\(index % 5)", last: "Nom\(index % 4)", email: "e\(index)@exemple.fr", summary: "atelier bois"),
                state: .published)
        }
        try await makeApplication(database: database).test(.router) { client in
            for base in ["/v1/directory/experts?limit=5", "/v1/directory/experts?limit=4&q=atelier"] {
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let reply = try await client.send(.get, base + (cursor.map { "&cursor=\($0)" } ?? ""))
                    #expect(reply.body["total"] as? Int == 23)
                    seen += slugs(reply)
                    cursor = reply.body["next_cursor"] as? String
                } while cursor != nil
                #expect(seen.count == 23 && Set(seen).count == 23, "\(base)")
            }
            #expect(try await client.send(.get, "/v1/directory/experts?cursor=%%%").status == .badRequest)
            #expect(try await client.send(.get, "/v1/directory/experts?limit=101").status == .badRequest)
            #expect(try await client.send(.get, "/v1/directory/experts?limit=0").status == .badRequest)
        }
    }

    @Test func unknownCodesAreAProblemNotAnEmptyList() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            let reply = try await client.send(.get, "/v1/directory/experts?theme=13&subtheme=1.9&region=99&department=20")
            #expect(reply.status == .badRequest && reply.code == "invalid_parameter")
            #expect(Set(reply.pointers) == ["/theme", "/subtheme/0", "/region", "/department"])
            #expect(try await client.send(.get, "/v1/directory/experts?remote=maybe").status == .badRequest)
        }
    }

    @Test func facetsCountEveryMatchByThemeSubthemeAndRegion() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            let reply = try await client.send(.get, "/v1/directory/experts?facets=true&limit=1")
            let facets = try #require(reply.body["facets"] as? [String: [[String: Any]]])
            let themes = Dictionary(uniqueKeysWithValues: (facets["themes"] ?? []).map { ($0["code"] as! String, $0["count"] as! Int) })
            #expect(themes == ["3": 1, "4": 1, "5": 1, "12": 2])
            let regions = Dictionary(uniqueKeysWithValues: (facets["regions"] ?? []).map { ($0["code"] as! String, $0["count"] as! Int) })
            #expect(regions["11"] == 2 && regions["84"] == 2 && regions["53"] == 1)
            #expect(try await client.send(.get, "/v1/directory/experts").body["facets"] == nil)
        }
    }

    @Test func thePublicCardShowsOnlyWhatTheExpertAgreedToPublish() async throws {
        try await makeApplication(database: try Self.seeded()).test(.router) { client in
            let elodie = try await client.send(.get, "/v1/directory/experts/elodie-muller")
            #expect(elodie.status == .ok && elodie.body["email"] as? String == "elodie@bois.fr" && elodie.body["phone"] == nil)
            #expect(elodie.body["website"] as? String == "https://müller.example.fr" && elodie.body["themes"] as? [String] == ["5", "12"])
            let karim = try await client.send(.get, "/v1/directory/experts/karim-benali")
            #expect(karim.body["email"] == nil && karim.body["phone"] == nil)
            let raw = String(decoding: karim.data, as: UTF8.self)
            #expect(!raw.contains("73282932000074") && !raw.contains("declaration"))
            #expect(try await client.send(.get, "/v1/directory/experts/sam-submitted").status == .notFound)
            #expect(try await client.send(.get, "/v1/directory/experts/dan-draft").status == .notFound)
        }
    }

    @Test func responsesAreCacheableAndRevalidateUntilTheDirectoryChanges() async throws {
        let database = try Self.seeded()
        try await makeApplication(database: database).test(.router) { client in
            for path in ["/v1/directory/experts?region=84", "/v1/directory/experts/anne-zed"] {
                let first = try await client.send(.get, path)
                #expect(first.headers[.cacheControl] == "public, max-age=60")
                let etag = try #require(first.etag)
                let again = try await client.send(.get, path, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified && again.data.isEmpty)
            }
            let before = try #require(try await client.send(.get, "/v1/directory/experts?region=84").etag)
            try database.importExpert(sampleCard(first: "New", last: "Comer", email: "new@comer.fr"), state: .published)
            let after = try await client.send(.get, "/v1/directory/experts?region=84", headers: [.ifNoneMatch: before])
            #expect(after.status == .ok && after.body["total"] as? Int == 3)
        }
    }

    @Test func configuredOriginsGetCORSHeadersOnPublicEndpoints() async throws {
        try await makeApplication(database: try Self.seeded(), corsOrigins: ["https://francetierslieux.fr"]).test(.router) { client in
            let allowed = try await client.send(.get, "/v1/directory/experts", headers: [.origin: "https://francetierslieux.fr"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://francetierslieux.fr")
            let preflight = try await client.send(.options, "/v1/directory/experts", headers: [.origin: "https://francetierslieux.fr"])
            #expect(preflight.status == .noContent && preflight.headers[.accessControlAllowMethods]?.contains("GET") == true)
            let other = try await client.send(.get, "/v1/directory/experts", headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let privateEndpoint = try await client.send(.get, "/v1/me", headers: [.origin: "https://francetierslieux.fr"])
            #expect(privateEndpoint.headers[.accessControlAllowOrigin] == nil)
        }
    }
}

@Suite("Bad input")
struct BadInputTests {
    @Test func malformedJSONIsA400ProblemAndABodyOver1MiBIsA413() async throws {
        try await makeApplication().test(.router) { client in
            let malformed = try await client.execute(
                uri: "/v1/auth/token", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"email\": ")
            ) { Reply(status: $0.status, headers: $0.headers, data: Data(buffer: $0.body)) }
            #expect(malformed.status == .badRequest && malformed.headers[.contentType] == "application/problem+json")
            #expect(malformed.code == "bad_request")
            let missingField = try await client.send(.post, "/v1/auth/token", json: ["email": "a@b.fr"])
            #expect(missingField.status == .badRequest)
            let huge = try await client.execute(
                uri: "/v1/auth/token", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
            ) { Reply(status: $0.status, headers: $0.headers, data: Data(buffer: $0.body)) }
            #expect(huge.status == .contentTooLarge && huge.code == "payload_too_large")
            let wrongType = try await client.execute(
                uri: "/v1/auth/token", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hello")
            ) { Reply(status: $0.status, headers: $0.headers, data: Data(buffer: $0.body)) }
            #expect(wrongType.status.code >= 400 && wrongType.status.code < 500)
            // A stale token is refused where an account is needed, ignored where none is (a client holding an expired
            // token still reads the directory and logs in again).
            let badToken = try await client.send(.get, "/v1/me", token: "mdp_forged")
            #expect(badToken.status == .unauthorized && badToken.code == "invalid_token")
            #expect(try await client.send(.get, "/v1/directory/experts", token: "mdp_forged").status == .ok)
            #expect(try await client.send(.get, "/health", token: "mdp_forged").status == .ok)
            let relogin = try await client.send(
                .post, "/v1/auth/token", token: "mdp_forged", json: ["email": "nobody@example.fr", "password": "not a password at all"])
            #expect(relogin.status == .unauthorized && relogin.code == "invalid_credentials")
        }
    }
}
