import Foundation
import Hummingbird

/// A method a path of the contract does not take is 405 with `Allow` listing those it does (404 would say the path
/// does not exist; HEAD is answered wherever GET is, by the router's generated HEAD routes). Paths outside the
/// contract (`/docs`, the widget, `/metrics`) are left to the router.
struct MethodMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    /// Each path template of the contract as segments (`*` for a parameter), with its methods.
    private let templates: [(segments: [Substring], methods: Set<String>)]

    init(contract: [(method: String, path: String)]) {
        var methods: [[Substring]: Set<String>] = [:]
        for (method, path) in contract {
            let segments = path.split(separator: "/").map { $0.hasPrefix("{") ? "*" : $0 }
            methods[segments, default: []].insert(method.uppercased())
        }
        templates = methods.map { ($0.key, $0.value) }
    }

    /// The methods the contract gives `path`, HEAD wherever GET is; empty when no template matches it.
    func allowed(for path: String) -> Set<String> {
        let segments = path.split(separator: "/")
        var found: Set<String> = []
        for template in templates where template.segments.count == segments.count {
            if zip(template.segments, segments).allSatisfy({ $0 == "*" || $0 == $1 }) { found.formUnion(template.methods) }
        }
        if found.contains("GET") { found.insert("HEAD") }
        return found
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = allowed(for: request.uri.path)
        guard !allowed.isEmpty else { return try await next(request, context) }
        let list = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].filter(allowed.contains).joined(separator: ", ")
        // A CORS preflight was answered before here; a plain OPTIONS learns what the path takes.
        if request.method == .options { return Response(status: .noContent, headers: [.allow: list + ", OPTIONS"]) }
        guard allowed.contains(request.method.rawValue) else {
            throw APIProblem(
                .methodNotAllowed, code: "method_not_allowed", title: "This path does not take \(request.method.rawValue.prefix(20))",
                detail: "It takes \(list).", headers: [.allow: list])
        }
        return try await next(request, context)
    }
}
