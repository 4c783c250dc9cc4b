import Domain
import Foundation
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Storage

/// What the HTTP layer needs from the composition root.
public struct APIDependencies: Sendable {
    public var database: AppDatabase
    public var settings: ProgrammeSettings
    public var version: String
    /// Origins whose pages may call the public endpoints ("*" for any).
    public var corsOrigins: [String]
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Keep encoded directory responses until the next card write.
    public var cacheDirectoryResponses: Bool
    /// The largest document accepted, in bytes (streamed, never held in memory).
    public var maxDocumentBytes: Int
    /// Addresses of reverse proxies (nginx) whose `X-Real-IP` names the client: throttling and anonymous idempotency
    /// count clients, not the proxy. Empty: the connection's peer is the client.
    public var trustedProxies: Set<String> = []
    /// Where request, database and queue metrics are recorded (served at `/metrics`).
    public var metrics = APIMetrics()
    /// When set, `/metrics` answers only a request bearing this token (`METRICS_TOKEN`).
    public var metricsToken: String?

    public init(
        database: AppDatabase, settings: ProgrammeSettings = .manufacturesDeProximite, version: String, corsOrigins: [String] = ["*"],
        maxBodyBytes: Int = 1 << 20, cacheDirectoryResponses: Bool = true, maxDocumentBytes: Int = 50 << 20
    ) {
        self.maxDocumentBytes = maxDocumentBytes
        self.cacheDirectoryResponses = cacheDirectoryResponses
        self.database = database
        self.settings = settings
        self.version = version
        self.corsOrigins = corsOrigins
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The whole HTTP surface: request ids and metrics around everything, problem+json errors, the generated operations,
/// the contract, its docs and the metrics.
public func buildRouter(_ dependencies: APIDependencies) throws -> Router<APIRequestContext> {
    // HEAD wherever GET is: the GET's status and headers, without the body (caches, link checkers, monitors).
    let router = Router(context: APIRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestIDMiddleware())
    let contract = Contract.shipped
    router.add(
        middleware: ObservedRequestsMiddleware(
            metrics: dependencies.metrics,
            operations: OperationIndex(contract: contract.operations.map { ($0.method, $0.path, $0.id) })))
    router.add(middleware: NoSniffMiddleware())
    router.add(middleware: QueryShapeMiddleware())
    router.add(middleware: NoStoreMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: PublicCORSMiddleware(origins: dependencies.corsOrigins))
    router.add(middleware: MethodMiddleware(contract: contract.operations.map { ($0.method, $0.path) }))
    router.add(middleware: BodyLimitMiddleware(limit: dependencies.maxBodyBytes))
    router.add(middleware: AuthMiddleware(database: dependencies.database, trustedProxies: dependencies.trustedProxies))
    router.add(middleware: ControlCharacterMiddleware())
    router.add(middleware: TextHygieneMiddleware())
    router.add(middleware: IdempotencyMiddleware(database: dependencies.database))
    if dependencies.cacheDirectoryResponses {
        router.add(middleware: DirectoryResponseCache(database: dependencies.database))
    }
    router.get("/openapi.yaml") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.yaml)))
    }
    let docs = ByteBuffer(string: Contract.shippedPage)
    router.get("/docs") { _, _ -> Response in
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "public, max-age=300",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'",
            ],
            body: .init(byteBuffer: docs))
    }
    Widget.register(on: router)
    let metrics = MetricsEndpoint(metrics: dependencies.metrics, database: dependencies.database, token: dependencies.metricsToken)
    router.get("/metrics") { request, _ -> Response in await metrics.respond(request) }
    let handler = APIHandler(
        database: dependencies.database, settings: dependencies.settings, version: dependencies.version,
        maxDocumentBytes: dependencies.maxDocumentBytes)
    try handler.registerHandlers(
        on: router,
        configuration: Configuration(dateTranscoder: LenientDateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
        middlewares: [HeaderValueMiddleware()])
    return router
}

/// The contract this server implements, shipped inside the binary.
enum OpenAPIDocument {
    static let yaml: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url) else {
            return Data("openapi.yaml was not bundled with this build\n".utf8)
        }
        return data
    }()
}

/// Dates as the contract writes them (RFC 3339, whole seconds) and as clients send them back: with or without a
/// fraction of a second (an event's `at` has milliseconds, and is a natural `since`).
struct LenientDateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { date.formatted(.iso8601) }

    func decode(_ text: String) throws -> Date {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Expected an RFC 3339 date and time."))
    }
}
