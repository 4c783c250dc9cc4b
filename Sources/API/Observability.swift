import CoreMetrics
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Prometheus
import Storage

/// The id of the request being served: taken from its `X-Request-Id` when the client sent a plain one, made
/// otherwise; echoed in the response, in every problem document and on every log line written while it runs.
public enum RequestID {
    @TaskLocal public static var current: String?

    static let header = HTTPField.Name("X-Request-Id")!

    /// A client's id is kept when it is 1–128 letters, digits or `-_.:`, so it goes into headers and logs as is.
    static func accepted(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({
                $0 < 0x80 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber || "-_.:".utf8.contains($0))
            })
        else { return nil }
        return value
    }

    /// 128 random bits in hex.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            return String(repeating: "0", count: 16 - String(value, radix: 16).count) + String(value, radix: 16)
        }.joined()
    }
}

/// Gives each request its id (see `RequestID`), outermost so that every answer carries it.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RequestID.accepted(request.headers[RequestID.header]) ?? RequestID.make()
        var context = context
        // Hummingbird's own request id is replaced, so logs name one id per request.
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response = await RequestID.$current.withValue(id) {
            do {
                return try await next(request, context)
            } catch {
                return ProblemMiddleware<Context>.response(for: ProblemMiddleware<Context>.problem(for: error))
            }
        }
        response.headers[RequestID.header] = id
        return response
    }
}

/// The server's metrics, in the Prometheus text format at `/metrics` (recorded through swift-metrics).
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// The metrics of the request being served (database time is recorded where the work is handed to the pool).
    @TaskLocal static var current: APIMetrics?

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let fine: [Duration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30),
        ]
        factory.defaultDurationHistogramBuckets = fine
        self.factory = factory
    }

    /// One answered request: its operation (the contract's `operationId`, or its route), method and status.
    func request(operation: String, status: Int, nanoseconds: UInt64) {
        CoreMetrics.Counter(
            label: "mdp_http_requests_total", dimensions: [("operation", operation), ("status", String(status))], factory: factory
        )
        .increment()
        CoreMetrics.Timer(label: "mdp_http_request_duration_seconds", dimensions: [("operation", operation)], factory: factory)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Time spent in one unit of database work (a transaction, a read), waiting for a connection included.
    func database(nanoseconds: UInt64) {
        CoreMetrics.Timer(label: "mdp_database_duration_seconds", dimensions: [], factory: factory).recordNanoseconds(
            Int64(clamping: nanoseconds))
    }

    /// Sets a gauge to `value` (outbox depth, failures: read at each scrape).
    func gauge(_ name: String, _ dimensions: [(String, String)], _ value: Int) {
        CoreMetrics.Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }
}

/// Counts and times every answered request by operation and status, and writes one access line per request.
struct ObservedRequestsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics
    let operations: OperationIndex

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let response = try await APIMetrics.$current.withValue(metrics) { try await next(request, context) }
        // Time to the response's head: a streamed download's bytes are not counted in.
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        let status = response.status.code
        let operation = operations.name(method: request.method, route: context.endpointPath)
        metrics.request(operation: operation, status: status, nanoseconds: elapsed)
        context.logger.info(
            "\(request.method.rawValue) \(request.uri.path) \(status)",
            metadata: [
                "operation": .string(operation), "status": .stringConvertible(status),
                "duration_ms": .stringConvertible((Double(elapsed) / 1e5).rounded() / 10),
            ])
        return response
    }
}

/// The contract's operations by method and route, to name requests in metrics.
struct OperationIndex: Sendable {
    private let names: [String: String]

    init(contract: [(method: String, path: String, operationID: String)]) {
        var names: [String: String] = [:]
        for entry in contract { names[Self.key(entry.method.uppercased(), entry.path)] = entry.operationID }
        self.names = names
    }

    /// `GET /v1/missions/{id}` and Hummingbird's `/v1/missions/:id` meet as `GET /v1/missions/*`.
    private static func key(_ method: String, _ path: String) -> String {
        let segments = path.split(separator: "/").map { segment in
            segment.hasPrefix("{") || segment.hasPrefix(":") ? "*" : String(segment)
        }
        return method + " /" + segments.joined(separator: "/")
    }

    func name(method: HTTPRequest.Method, route: String?) -> String {
        // No route: nil, or the name Hummingbird's not-found responder gives itself.
        guard let route, route != "NotFound" else { return "unmatched" }
        if let name = names[Self.key(method.rawValue, route)] { return name }
        // Routes outside the contract (/docs, /metrics, /openapi.yaml) by method and route; a method a client made up
        // is not a label value (metrics stay bounded whatever is sent).
        return [.get, .head, .post, .put, .patch, .delete, .options].contains(method) ? "\(method.rawValue) \(route)" : "unmatched"
    }
}

/// `/metrics`: what the registry holds, with the outbox and webhook queues read at each scrape. With a token set
/// (`METRICS_TOKEN`), only a request bearing it is answered.
struct MetricsEndpoint: Sendable {
    let metrics: APIMetrics
    let database: AppDatabase
    let token: String?

    func respond(_ request: Request) async -> Response {
        if let token {
            // `Bearer` in any case, as the API takes it.
            let parts = (request.headers[.authorization] ?? "").split(separator: " ", maxSplits: 1)
            let sent = parts.count == 2 && parts[0].lowercased() == "bearer" ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            guard Data(SHA256.hash(data: Data(sent.utf8))) == Data(SHA256.hash(data: Data(token.utf8))) else {
                return ProblemMiddleware<APIRequestContext>.response(
                    for: APIProblem(
                        .unauthorized, code: "unauthenticated", title: "The metrics token is required",
                        headers: [.wwwAuthenticate: "Bearer"]))
            }
        }
        if let queues = try? await storage({ [database] in (try database.outboxCounts(), try database.webhookDeliveryCounts()) }) {
            let (outbox, webhooks) = queues
            for (state, value) in [
                ("waiting", outbox.waiting), ("delivered", outbox.delivered), ("failed", outbox.failed), ("skipped", outbox.skipped),
            ] {
                metrics.gauge("mdp_outbox_notices", [("state", state)], value)
            }
            for (state, value) in [("waiting", webhooks.waiting), ("delivered", webhooks.delivered), ("failed", webhooks.failed)] {
                metrics.gauge("mdp_webhook_deliveries", [("state", state)], value)
            }
            metrics.gauge("mdp_database_up", [], 1)
        } else {
            metrics.gauge("mdp_database_up", [], 0)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}
