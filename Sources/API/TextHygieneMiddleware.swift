import Domain
import Foundation
import Hummingbird

/// Refuses, with 422 and a pointer to each field, a JSON body whose strings hold control characters: U+0000 and the
/// other C0/C1 controls anywhere, and tab, CR or LF in a single-line field (`TextRule`). Runs before any handler, so no
/// text field of any operation can carry them into the database, the logs, an export or the Drive.
struct TextHygieneMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let type = request.headers[.contentType]?.lowercased(), type.hasPrefix("application/json") || type.contains("+json"),
            // Without a token, only the open operations look at a body: the others answer 401 first.
            RequestInfo.current.caller != nil || AuthMiddleware.isOpen(request)
        else { return try await next(request, context) }
        var request = request
        // BodyLimitMiddleware has already read and bounded this body.
        let buffer = try await request.body.collect(upTo: .max)
        request.body = .init(buffer: buffer)
        if let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer), options: [.fragmentsAllowed]) {
            var errors: [FieldError] = []
            Self.check(object, at: [], member: nil, into: &errors)
            if !errors.isEmpty {
                throw APIProblem(.unprocessableContent, code: "validation_failed", title: "Some fields are invalid", errors: errors)
            }
        }
        return try await next(request, context)
    }

    /// Walks a decoded JSON value, collecting every string (and member name) that its rule refuses; at most 50 errors.
    static func check(_ value: Any, at path: [String], member: String?, into errors: inout [FieldError]) {
        guard errors.count < 50 else { return }
        switch value {
        case let text as String:
            if let error = TextRule.rule(forMember: member).error(in: text, at: jsonPointer(path)) { errors.append(error) }
        case let array as [Any]:
            for (index, element) in array.enumerated() { check(element, at: path + [String(index)], member: member, into: &errors) }
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let error = TextRule.singleLine.error(in: key, at: jsonPointer(path + [key])) { errors.append(error) }
                if let element = object[key] { check(element, at: path + [key], member: key, into: &errors) }
            }
        default:
            break
        }
    }
}
