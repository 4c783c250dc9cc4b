import Domain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage

/// The request context of the API: Hummingbird's core storage plus the peer address (login throttling).
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// What the generated handlers need to know about the request they serve, set by `AuthMiddleware` for the task.
struct RequestInfo: Sendable {
    var caller: Authenticated?
    var address: String

    @TaskLocal static var current = RequestInfo(caller: nil, address: "unknown")

    /// The caller's account; 401 without a valid token.
    static func account() throws -> Account {
        guard let caller = current.caller else {
            throw APIProblem(
                .unauthorized, code: "unauthenticated", title: "A bearer token is required",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        return caller.account
    }

    /// The caller's account when its role is one of `roles`; 401 without a token, 403 for another role.
    static func account(in roles: Set<Role>) throws -> Account {
        let account = try account()
        guard roles.contains(account.role) else {
            throw APIProblem(.forbidden, code: "forbidden", title: "Your role may not do this")
        }
        return account
    }
}

/// Resolves `Authorization: Bearer …` to an account for the rest of the request. A token that is present but
/// unknown, expired or revoked is refused with 401 at once, so clients learn to log in again.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let database: AppDatabase
    /// Proxies whose `X-Real-IP` is believed.
    var trustedProxies: Set<String> = []

    /// Operations open to anyone: a stale token sent along is ignored there, so a client holding an expired token can
    /// still log in, sign up, read the directory or check health.
    static func isOpen(_ request: Request) -> Bool {
        let path = request.uri.path
        if request.method == .post { return path == "/v1/auth/token" || path == "/v1/experts" }
        return PublicCORSMiddleware.isPublic(path) || ["/health", "/ready", "/metrics", "/openapi.yaml", "/docs"].contains(path)
    }

    static let realIP = HTTPField.Name("X-Real-IP")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let peer = context.remoteAddress?.ipAddress ?? "unknown"
        var address = peer
        if trustedProxies.contains(peer), let forwarded = request.headers[Self.realIP]?.trimmingCharacters(in: .whitespaces),
            !forwarded.isEmpty, forwarded.utf8.count <= 64, forwarded.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" })
        {
            address = forwarded
        }
        var info = RequestInfo(caller: nil, address: address)
        if let header = request.headers[.authorization], !Self.isOpen(request) {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer",
                let caller = try await storage({ [database] in
                    try database.authenticate(token: String(parts[1]).trimmingCharacters(in: .whitespaces))
                })
            else {
                throw APIProblem(
                    .unauthorized, code: "invalid_token", title: "The token is unknown, expired or revoked",
                    headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
            }
            info.caller = caller
        }
        return try await RequestInfo.$current.withValue(info) {
            try await next(request, context)
        }
    }
}

/// Bodies over `limit` bytes are refused with 413 before any handler reads them.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // File uploads stream to the blob store under their own limit.
        if request.headers[.contentType]?.lowercased().hasPrefix("application/octet-stream") == true {
            return try await next(request, context)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIProblem(.contentTooLarge, code: "payload_too_large", title: "The body is larger than \(limit) bytes")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIProblem(.contentTooLarge, code: "payload_too_large", title: "The body is larger than \(limit) bytes")
        }
        request.body = .init(buffer: buffer)
        return try await next(request, context)
    }
}

/// CORS for the public, read-only endpoints, so website widgets of the configured origins can call them.
struct PublicCORSMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    /// Allowed origins; "*" allows any.
    let origins: [String]
    /// The public operations: the directory and the reference data, nothing else (`/v1/programme/summary` is the team's).
    static let publicPaths: Set<String> = ["/v1/taxonomy", "/v1/territories", "/v1/programme"]
    static let publicPrefixes = ["/v1/directory/"]

    static func isPublic(_ path: String) -> Bool {
        publicPaths.contains(path) || publicPrefixes.contains { path.hasPrefix($0) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard let origin = request.headers[.origin], Self.isPublic(path),
            origins.contains("*") || origins.contains(origin)
        else {
            return try await next(request, context)
        }
        let allowed = origins.contains("*") ? "*" : origin
        if request.method == .options {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: allowed, .accessControlAllowMethods: "GET, OPTIONS",
                    .accessControlAllowHeaders: "If-None-Match, Accept, X-Request-Id", .accessControlMaxAge: "86400", .vary: "Origin",
                ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = allowed
        response.headers[.accessControlExposeHeaders] = "ETag, Cache-Control, X-Request-Id"
        response.headers[.vary] = "Origin"
        return response
    }
}

/// `X-Content-Type-Options: nosniff` on every response: a browser never guesses a type other than the one declared,
/// so an uploaded text file that looks like HTML is never run as a page (downloads are also attachments).
struct NoSniffMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}

/// Reads a query string as people and tools write it before the generated layer parses it: an empty pair (`?&x=1`,
/// `x=1&&y=2`) is dropped and a name without `=` gets an empty value, so the first is answered and the second refused
/// by its parameter's rule (400) — the generated parser would have thrown an error that answers 500.
struct QueryShapeMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let path = request.head.path, let mark = path.firstIndex(of: "?") else { return try await next(request, context) }
        let query = path[path.index(after: mark)...]
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { $0.contains("=") ? String($0) : $0 + "=" }
        let shaped = pairs.joined(separator: "&")
        guard shaped != query else { return try await next(request, context) }
        var head = request.head
        head.path = String(path[..<mark]) + (shaped.isEmpty ? "" : "?" + shaped)
        return try await next(Request(head: head, body: request.body), context)
    }
}

/// No identifier or query value holds a control character (`%00`, `%0A`…): nothing stored can have one, so a path
/// with one names nothing (404) and a query value with one is refused with its pointer (400), the same on SQLite and on
/// PostgreSQL (which cannot even compare text holding U+0000).
struct ControlCharacterMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    static func hasControl(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.contains("%"), Self.hasControl(path.removingPercentEncoding ?? path) { throw APIProblem.notFound() }
        for (name, value) in request.uri.queryParameters where Self.hasControl(value) || Self.hasControl(name) {
            throw APIProblem.badParameter(
                String(name.prefix(50)).filter { !Self.hasControl(String($0)) }, "control_character",
                "A query value holds no control character.")
        }
        return try await next(request, context)
    }
}

/// What is one person's own or the team's confidential reports is never kept by a shared cache or a browser's disk.
struct NoStoreMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    static let prefixes = ["/v1/me/data", "/v1/exports/"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if Self.prefixes.contains(where: { request.uri.path.hasPrefix($0) }) { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
