import Crypto
import Foundation

/// A document as the API's feed describes it.
public struct FeedDocument: Sendable, Hashable, Decodable {
    public let id: String
    public let laureateId: String
    public let laureateSlug: String
    public let missionId: String?
    public let missionRef: String?
    public let kind: String
    public let version: Int
    public let fileName: String
    public let size: Int
    public let sha256: String
    public let revision: Int64
    public let withdrawn: Bool
    public let drivePath: String?
}

/// Why the API refused.
public enum APIError: Error, Sendable, Equatable {
    case unauthorized
    /// The document changed since it was read: read the feed again.
    case stale
    case status(Int, String)
}

/// The client of our own REST API that the sync engine uses: the documents feed, contents, and uploads from the Drive,
/// all with the service token; the same contract offline apps use.
public struct APIClient: Sendable {
    public let base: URL
    public let token: String
    public let http: HTTPClient

    public init(base: URL, token: String, http: HTTPClient) {
        self.base = base
        self.token = token
        self.http = http
    }

    private func url(_ path: String, _ query: [(String, String)] = []) -> String {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += path
        if !query.isEmpty {
            text +=
                "?"
                + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: WebDAVClient.unreserved) ?? $0.1)" }.joined(
                    separator: "&")
        }
        return text
    }

    private var auth: (name: String, value: String) { ("Authorization", "Bearer \(token)") }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    private func check(_ response: HTTPResponse, _ expected: Set<Int>) throws {
        if expected.contains(response.status) { return }
        switch response.status {
        case 401, 403: throw APIError.unauthorized
        case 412: throw APIError.stale
        default: throw APIError.status(response.status, String(decoding: response.body.prefix(300), as: UTF8.self))
        }
    }

    /// Checks the token against `/v1/me`: bad credentials stop a run before anything else.
    public func verify() async throws {
        try check(try await http.perform(HTTPRequest(method: "GET", url: url("/v1/me"), headers: [auth])), [200])
    }

    /// The whole feed after `cursor`, page by page; returns every changed document and the new cursor.
    public func feed(after cursor: Int64) async throws -> (documents: [FeedDocument], cursor: Int64) {
        struct Page: Decodable {
            let items: [FeedDocument]
            let nextCursor: String
            let hasMore: Bool
        }
        var documents: [FeedDocument] = []
        var cursor = cursor
        while true {
            let response = try await http.perform(
                HTTPRequest(
                    method: "GET", url: url("/v1/documents", [("updated_after", String(cursor)), ("limit", "100")]), headers: [auth]))
            try check(response, [200])
            let page = try Self.decoder.decode(Page.self, from: response.body)
            documents += page.items
            cursor = Int64(page.nextCursor) ?? cursor
            if !page.hasMore { return (documents, cursor) }
        }
    }

    /// The ids of laureates by Drive folder and of missions by reference, to place files found on the Drive.
    public func places() async throws -> (laureates: [String: String], missions: [String: (id: String, laureates: [String])]) {
        struct Laureates: Decodable {
            struct Item: Decodable {
                let id: String
                let slug: String
            }
            let items: [Item]
        }
        struct Missions: Decodable {
            struct Item: Decodable {
                struct Participant: Decodable { let laureateId: String }
                let id: String
                let ref: String
                let participants: [Participant]
            }
            let items: [Item]
            let nextCursor: String?
        }
        let response = try await http.perform(HTTPRequest(method: "GET", url: url("/v1/laureates"), headers: [auth]))
        try check(response, [200])
        let laureates = try Self.decoder.decode(Laureates.self, from: response.body).items
        var missions: [String: (String, [String])] = [:]
        var cursor = "0"
        while true {
            let page = try await http.perform(
                HTTPRequest(method: "GET", url: url("/v1/missions", [("updated_after", cursor), ("limit", "100")]), headers: [auth]))
            try check(page, [200])
            let decoded = try Self.decoder.decode(Missions.self, from: page.body)
            for item in decoded.items { missions[item.ref] = (item.id, item.participants.map(\.laureateId)) }
            guard decoded.items.count == 100, let next = decoded.nextCursor else { break }
            cursor = next
        }
        return (Dictionary(laureates.map { ($0.slug, $0.id) }, uniquingKeysWith: { first, _ in first }), missions)
    }

    /// The bytes of the version the feed described (not whatever is current now), to `file`.
    public func download(_ document: FeedDocument, to file: URL) async throws {
        let response = try await http.perform(
            HTTPRequest(
                method: "GET", url: url("/v1/documents/\(document.id)/content", [("version", String(document.version))]), headers: [auth]),
            sink: .file(file))
        try check(response, [200])
    }

    /// A file found on the Drive becomes a new document (`source=drive`). The idempotency key comes from the file's
    /// place and digest, so a run killed after the upload and before its journal does not add it twice.
    public func create(laureateID: String?, missionID: String?, kind: String, fileName: String, file: URL, sha256: String) async throws
        -> FeedDocument
    {
        let path = missionID.map { "/v1/missions/\($0)/documents" } ?? "/v1/laureates/\(laureateID ?? "")/documents"
        let response = try await http.perform(
            HTTPRequest(
                method: "POST", url: url(path, [("kind", kind), ("file_name", fileName), ("source", "drive")]),
                headers: [
                    auth, ("Content-Type", "application/octet-stream"), ("X-Content-SHA256", sha256),
                    ("Idempotency-Key", Self.key("create", path, fileName, sha256)),
                ], body: .file(file)))
        try check(response, [201])
        return try Self.decoder.decode(FeedDocument.self, from: response.body)
    }

    /// A new version of a document from the Drive, guarded by the revision the engine last saw.
    public func addVersion(_ document: FeedDocument, file: URL, sha256: String, conflict: Bool) async throws -> FeedDocument {
        let response = try await http.perform(
            HTTPRequest(
                method: "POST",
                url: url("/v1/documents/\(document.id)/versions", [("source", "drive"), ("conflict", conflict ? "true" : "false")]),
                headers: [
                    auth, ("Content-Type", "application/octet-stream"), ("If-Match", "\"r\(document.revision)\""),
                    ("X-Content-SHA256", sha256), ("Idempotency-Key", Self.key("version", document.id, String(document.revision), sha256)),
                ], body: .file(file)))
        try check(response, [201])
        return try Self.decoder.decode(FeedDocument.self, from: response.body)
    }

    static func key(_ parts: String...) -> String {
        hex(SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)))
    }
}

/// Digests as lowercase hexadecimal, as the API and the journal write them.
func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
