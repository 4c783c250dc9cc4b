import API
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Storage
import Synchronization
import Testing

/// Builds the application the way `mdp serve` does, over `database` (a private in-memory one by default).
func makeApplication(
    database: AppDatabase? = nil, corsOrigins: [String] = ["*"], maxDocumentBytes: Int = 50 << 20, logger: Logger? = nil,
    trustedProxies: Set<String> = [], metricsToken: String? = nil
) throws -> TestApplication {
    var dependencies = APIDependencies(
        database: try database ?? AppDatabase.throwaway(), version: "test", corsOrigins: corsOrigins, maxDocumentBytes: maxDocumentBytes)
    dependencies.trustedProxies = trustedProxies
    dependencies.metricsToken = metricsToken
    let router = try buildRouter(dependencies)
    return TestApplication(router: router, logger: logger ?? Logger(label: "mdp-test"))
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
}

/// A clock tests can move.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A response reduced to what tests look at.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let data: Data

    var body: [String: Any] { (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:] }
    var code: String? { body["code"] as? String }
    var etag: String? { headers[.eTag] }
    var pointers: [String] { (body["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String } }
}

extension TestClientProtocol {
    /// Uploads raw bytes as application/octet-stream.
    func upload(_ uri: String, token: String?, bytes: [UInt8], headers: HTTPFields = [:]) async throws -> Reply {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers[.contentType] = "application/octet-stream"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            Reply(status: response.status, headers: response.headers, data: Data(buffer: response.body))
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: Any? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, data: Data(buffer: response.body))
        }
    }
}

/// The people of a test: one of each caller the permission tests go through, with their tokens.
struct Cast: Sendable {
    let database: AppDatabase
    let admin: String
    let owner: String
    let ownerExpertID: String
    let otherExpert: String
    let laureate: String

    static func make(clock: TestClock = TestClock()) throws -> Cast {
        let database = try AppDatabase.throwaway(options: .init(clock: { clock.now }, bcryptCost: 4))
        func token(_ account: Account) throws -> String {
            try database.createPersonalToken(for: account, name: "test", days: 30).secret
        }
        let admin = try database.createAccount(
            email: "equipe@francetierslieux.fr", password: "mot de passe equipe", role: .admin, displayName: "Équipe FTL")
        let owner = try database.importExpert(sampleCard(email: "claire@atelier-martin.fr"), state: .draft, password: "mot de passe claire")
        let other = try database.importExpert(
            sampleCard(first: "Paul", last: "Durand", email: "paul@durand-conseil.fr"), state: .draft, password: "mot de passe paul")
        let laureate = try database.createLaureate(
            name: "La Fabrique du Bois", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218", communeName: "Saint-Étienne",
            departmentCode: "42", territoryTypes: [.smallOrMediumTown], cohort: 2, sectors: ["bois"], supportCeilingCents: 1_500_000,
            settings: .manufacturesDeProximite)
        let member = try database.createAccount(
            email: "contact@fabrique-bois.fr", password: "mot de passe fabrique", role: .laureate, displayName: "Fabrique",
            link: .laureate(id: laureate.id))
        return Cast(
            database: database, admin: try token(admin), owner: try token(owner.account), ownerExpertID: owner.expertID,
            otherExpert: try token(other.account), laureate: try token(member))
    }

    /// Every caller by name; nil is anonymous.
    var everyone: [(name: String, token: String?)] {
        [("anonymous", nil), ("owner", owner), ("other expert", otherExpert), ("laureate", laureate), ("admin", admin)]
    }
}

/// A card with every required answer.
func sampleCard(
    first: String = "Claire", last: String = "Martin", email: String, summary: String = "Modèle économique des tiers-lieux productifs.",
    subthemes: [String] = ["4.2"], coverage: Coverage = Coverage(regionCodes: ["84"]), sectors: [String] = ["bois"],
    publication: PublicationConsent = .init(email: false, phone: false, website: true)
) -> ExpertCardContent {
    ExpertCardContent(
        firstName: first, lastName: last, organisation: Organisation(name: "\(last) Conseil", siret: "73282932000074"),
        contact: ContactDetails(email: email, phone: "06 12 34 56 78", website: "https://\(last.lowercased()).example.fr"),
        summary: summary, subthemeCodes: subthemes, coverage: coverage, sectors: sectors,
        experiences: [PriorExperience(tiersLieu: "La Quincaillerie", description: "Plan de financement", productive: true)],
        declaration: NoInterestDeclaration(signatory: "\(first) \(last)", signedOn: CalendarDate(2023, 2, 10)!), publication: publication)
}
