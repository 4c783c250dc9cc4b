import Crypto
import Domain
import Foundation
import OpenAPIRuntime

/// A document as the API's feed describes it: what the engine keeps of the generated `Document`.
public struct FeedDocument: Sendable, Hashable {
    public let id: String
    public let laureateId: String
    public let laureateSlug: String
    public let missionId: String?
    public let missionRef: String?
    public let kind: DocumentKind
    public let version: Int
    public let fileName: String
    public let size: Int
    public let sha256: String
    public let revision: Int64
    public let withdrawn: Bool
    public let drivePath: String?

    public init(
        id: String, laureateId: String, laureateSlug: String, missionId: String?, missionRef: String?, kind: DocumentKind, version: Int,
        fileName: String, size: Int, sha256: String, revision: Int64, withdrawn: Bool, drivePath: String?
    ) {
        (self.id, self.laureateId, self.laureateSlug, self.missionId, self.missionRef) = (
            id, laureateId, laureateSlug, missionId, missionRef
        )
        (self.kind, self.version, self.fileName, self.size, self.sha256) = (kind, version, fileName, size, sha256)
        (self.revision, self.withdrawn, self.drivePath) = (revision, withdrawn, drivePath)
    }

    /// From the contract's `Document`: the kind in Domain's type (a kind one side does not know fails the build of the
    /// mapping below, not a run), the size bounded to what the engine can count.
    init(_ document: Components.Schemas.Document) throws {
        guard let kind = DocumentKind(rawValue: document.kind.rawValue), let size = Int(exactly: document.size), size >= 0 else {
            throw APIError.status(200, "document \(document.id): kind \(document.kind.rawValue) or size \(document.size) out of bounds")
        }
        self.init(
            id: document.id, laureateId: document.laureateId, laureateSlug: document.laureateSlug, missionId: document.missionId,
            missionRef: document.missionRef, kind: kind, version: document.version, fileName: document.fileName, size: size,
            sha256: document.sha256, revision: document.revision, withdrawn: document.withdrawn, drivePath: document.drivePath)
    }
}

/// Why the API refused.
public enum APIError: Error, Sendable, Equatable, CustomStringConvertible {
    case unauthorized
    /// The document changed since it was read: read the feed again.
    case stale
    case status(Int, String)

    public var description: String {
        switch self {
        case .unauthorized: "the API refused the token (401/403)"
        case .stale: "the document changed in the API since it was read (412)"
        case .status(let code, let detail):
            "the API answered \(code)" + (detail.isEmpty ? "" : ": " + String(detail.prefix(200)).replacingOccurrences(of: "\n", with: " "))
        }
    }
}

/// The client of our own REST API that the sync engine uses: the documents feed, contents, and uploads from the Drive,
/// all with the service token; the same contract offline apps use. The calls are generated from `openapi.yaml`
/// (`Client`, over libcurl through `CurlTransport`): a contract change breaks this file's build, not a run.
public struct APIClient: Sendable {
    public let base: URL
    let client: Client

    public init(base: URL, token: String, http: HTTPClient, scratch: URL = FileManager.default.temporaryDirectory) {
        self.base = base
        client = Client(serverURL: base, transport: CurlTransport(http: http, scratch: scratch), middlewares: [APIAnswers(token: token)])
    }

    /// The generated client wraps what the transport and the middleware throw; the engine retries and reports by the
    /// error itself (a transport fault, a 5xx, a refused token).
    private func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ClientError {
            throw error.underlyingError
        }
    }

    private static func unexpected(_ output: some Sendable) -> APIError {
        APIError.status(0, "an answer the contract does not give here: \(String(describing: output).prefix(200))")
    }

    /// Checks the token against `/v1/me`: bad credentials stop a run before anything else.
    public func verify() async throws {
        guard case .ok = try await call({ try await client.getMe() }) else { throw APIError.unauthorized }
    }

    /// The whole feed after `cursor`, page by page; returns every changed document and the new cursor.
    public func feed(after cursor: Int64) async throws -> (documents: [FeedDocument], cursor: Int64) {
        var documents: [FeedDocument] = []
        var cursor = cursor
        while true {
            let output = try await call { try await client.listDocuments(query: .init(updatedAfter: cursor, limit: 100)) }
            guard case .ok(let ok) = output else { throw Self.unexpected(output) }
            let page = try ok.body.json
            documents += try page.items.map(FeedDocument.init)
            cursor = Int64(page.nextCursor) ?? cursor
            if !page.hasMore { return (documents, cursor) }
        }
    }

    /// The ids of laureates by Drive folder and of missions by reference, to place files found on the Drive.
    public func places() async throws -> (laureates: [String: String], missions: [String: (id: String, laureates: [String])]) {
        // Every list is paged (limit, cursor, has_more): each one is followed to its end.
        var laureates: [Components.Schemas.Laureate] = []
        var laureateCursor: String?
        while true {
            let listed = try await call { [laureateCursor] in
                try await client.listLaureates(query: .init(limit: 100, cursor: laureateCursor))
            }
            guard case .ok(let ok) = listed else { throw Self.unexpected(listed) }
            let page = try ok.body.json
            laureates += page.items
            guard page.hasMore, let next = page.nextCursor, next != laureateCursor else { break }
            laureateCursor = next
        }
        var missions: [String: (String, [String])] = [:]
        var cursor: Int64 = 0
        while true {
            let output = try await call { [cursor] in try await client.listMissions(query: .init(updatedAfter: cursor, limit: 100)) }
            guard case .ok(let page) = output else { throw Self.unexpected(output) }
            let decoded = try page.body.json
            for item in decoded.items { missions[item.ref] = (item.id, item.participants.map(\.laureateId)) }
            guard decoded.hasMore, let next = decoded.nextCursor.flatMap({ Int64($0) }), next > cursor else { break }
            cursor = next
        }
        return (Dictionary(laureates.map { ($0.slug, $0.id) }, uniquingKeysWith: { first, _ in first }), missions)
    }

    /// One document as it is now.
    public func document(id: String) async throws -> FeedDocument {
        let output = try await call { try await client.getDocument(path: .init(documentId: id)) }
        guard case .ok(let ok) = output else { throw Self.unexpected(output) }
        return try FeedDocument(try ok.body.json)
    }

    /// The bytes of the version the feed described (not whatever is current now), to `file`.
    public func download(_ document: FeedDocument, to file: URL) async throws {
        try await download(documentID: document.id, version: document.version, to: file)
    }

    /// One version of a document, whatever version is current.
    public func download(documentID: String, version: Int, to file: URL) async throws {
        try await call {
            let output = try await client.downloadDocument(path: .init(documentId: documentID), query: .init(version: version))
            guard case .ok(let ok) = output else { throw Self.unexpected(output) }
            try await CurlTransport.spool(try ok.body.binary, to: file)
        }
    }

    /// A file found on the Drive becomes a new document (`source=drive`). The idempotency key comes from the file's
    /// place and digest, so a run killed after the upload and before its journal does not add it twice.
    public func create(laureateID: String?, missionID: String?, kind: DocumentKind, fileName: String, file: URL, sha256: String)
        async throws -> FeedDocument
    {
        guard let contractKind = Components.Schemas.DocumentKind(rawValue: kind.rawValue) else {
            throw APIError.status(0, "the contract has no document kind \(kind.rawValue)")
        }
        let body = try Self.body(of: file)
        let created: Components.Schemas.Document
        if let missionID {
            let key = Self.key("create", "/v1/missions/\(missionID)/documents", fileName, sha256)
            let output = try await call {
                try await client.uploadMissionDocument(
                    path: .init(missionId: missionID), query: .init(kind: contractKind, fileName: fileName, source: .drive),
                    headers: .init(idempotencyKey: key, xContentSHA256: sha256), body: .binary(body))
            }
            guard case .created(let answer) = output else { throw Self.unexpected(output) }
            created = try answer.body.json
        } else {
            let laureateID = laureateID ?? ""
            let key = Self.key("create", "/v1/laureates/\(laureateID)/documents", fileName, sha256)
            let output = try await call {
                try await client.uploadDossierDocument(
                    path: .init(laureateId: laureateID), query: .init(kind: contractKind, fileName: fileName, source: .drive),
                    headers: .init(idempotencyKey: key, xContentSHA256: sha256), body: .binary(body))
            }
            guard case .created(let answer) = output else { throw Self.unexpected(output) }
            created = try answer.body.json
        }
        return try FeedDocument(created)
    }

    /// A new version of a document from the Drive, guarded by the revision the engine last saw.
    public func addVersion(_ document: FeedDocument, file: URL, sha256: String, conflict: Bool) async throws -> FeedDocument {
        let key = Self.key("version", document.id, String(document.revision), sha256)
        let body = try Self.body(of: file)
        let output = try await call {
            try await client.uploadDocumentVersion(
                path: .init(documentId: document.id), query: .init(source: .drive, conflict: conflict),
                headers: .init(idempotencyKey: key, xContentSHA256: sha256, ifMatch: "\"r\(document.revision)\""), body: .binary(body))
        }
        guard case .created(let answer) = output else { throw Self.unexpected(output) }
        return try FeedDocument(try answer.body.json)
    }

    /// A file as a request body, read in chunks (several times if a retry needs it), its length known.
    static func body(of file: URL) throws -> HTTPBody {
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0
        return HTTPBody(FileReader(file: file), length: .known(Int64(size)), iterationBehavior: .multiple)
    }

    static func key(_ parts: String...) -> String {
        hex(SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)))
    }
}

/// Digests as lowercase hexadecimal, as the API and the journal write them.
func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
