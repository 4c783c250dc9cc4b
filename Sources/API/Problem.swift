import Domain
import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1
import OpenAPIRuntime
import Storage

/// An RFC 9457 problem: what every error of the API becomes, with a stable machine-readable `code`.
public struct APIProblem: Error, Sendable, Hashable {
    public var status: HTTPResponse.Status
    public var code: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError]
    public var headers: HTTPFields
    /// With `budget_exceeded`: what the laureate has left, in cents.
    public var remainingCents: Int?

    public init(
        _ status: HTTPResponse.Status, code: String, title: String, detail: String? = nil, errors: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public static func notFound(_ detail: String? = nil) -> APIProblem {
        APIProblem(.notFound, code: "not_found", title: "Not found", detail: detail)
    }

    /// The problem document, as the generated `Problem` schema.
    var schema: Components.Schemas.Problem {
        Components.Schemas.Problem(
            _type: "https://manufactures.francetierslieux.fr/problems/\(code)", title: title, status: status.code,
            detail: detail, instance: nil, code: code,
            errors: errors.isEmpty ? nil : errors.map { .init(pointer: $0.pointer, code: $0.code, detail: $0.detail) },
            remainingCents: remainingCents.map(Int64.init), requestId: RequestID.current)
    }
}

/// Turns every error thrown below it (handlers, the generated decoding layer, the router's 404) into an
/// `application/problem+json` response; an unexpected error becomes a 500 whose cause is logged, not shown.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error)
            if problem.status == .internalServerError {
                context.logger.error("unexpected error", metadata: ["error": "\(Self.redactedDescription(of: error))"])
            }
            return Self.response(for: problem)
        }
    }

    /// What may be logged of an unexpected error: its type, and for an error of the generated layer the operation and
    /// its cause's type. Never the error's own description: the OpenAPI runtime's errors carry the whole request
    /// (its `Authorization` header, its body), and database errors may carry the values of a statement.
    static func redactedDescription(of error: any Error) -> String {
        if let serverError = error as? ServerError {
            return "\(type(of: serverError.underlyingError)) in operation \(serverError.operationID)"
        }
        if let clientError = error as? ClientError {
            return "\(type(of: clientError.underlyingError)) in client operation \(clientError.operationID)"
        }
        return "\(type(of: error))"
    }

    /// The server is stopping and its grace period is over: the request was cancelled before anything was committed.
    static var shuttingDown: APIProblem {
        APIProblem(
            .serviceUnavailable, code: "shutting_down", title: "The server is stopping", detail: "Send the request again.",
            headers: [.retryAfter: "5"])
    }

    static func problem(for error: any Error) -> APIProblem {
        switch error {
        case let problem as APIProblem:
            return problem
        case let refusal as StorageError:
            // Storage refusals that reach here without `storage { }` (an upload's chunks written as they arrive).
            return APIProblem(refusal)
        case let serverError as ServerError where serverError.underlyingError is StorageError:
            return (serverError.underlyingError as? StorageError).map(APIProblem.init) ?? .databaseUnavailable
        case is CancellationError:
            return shuttingDown
        case let serverError as ServerError where serverError.underlyingError is CancellationError:
            return shuttingDown
        case let serverError as ServerError:
            if let problem = serverError.underlyingError as? APIProblem { return problem }
            if serverError.underlyingError is HTTPParserError { return malformedBody }
            if serverError.httpStatus.kind == .clientError {
                if let decoding = serverError.underlyingError as? DecodingError,
                    [.get, .head, .delete].contains(serverError.request.method)
                {
                    // No body: a query parameter the contract types (an enum, a date, a number) was not one of its values.
                    return APIProblem(
                        .badRequest, code: "invalid_parameter", title: "A parameter is invalid",
                        detail: "A query parameter does not match the contract (its type, format or allowed values).",
                        errors: [FieldError(parameter: decoding, in: serverError.request)])
                }
                if let decoding = serverError.underlyingError as? DecodingError {
                    return APIProblem(
                        .badRequest, code: "bad_request", title: "Malformed request",
                        detail: "The body does not match the contract.", errors: [FieldError(decoding)])
                }
                let (code, title) =
                    switch serverError.httpStatus {
                    case .unsupportedMediaType: ("unsupported_media_type", "Unsupported content type")
                    case .notAcceptable: ("not_acceptable", "None of the accepted types is one this operation answers in")
                    default: ("bad_request", "Malformed request")
                    }
                return APIProblem(
                    serverError.httpStatus, code: code, title: title, detail: Self.plainCause(serverError.causeDescription))
            }
            return APIProblem(.internalServerError, code: "internal_error", title: "Internal error")
        case let httpError as HTTPResponseError:
            return problem(forStatus: httpError.status, headers: (httpError as? HTTPError)?.headers ?? [:])
        case is HTTPParserError:
            return malformedBody
        default:
            return APIProblem(.internalServerError, code: "internal_error", title: "Internal error")
        }
    }

    /// Whether the error is a request body that could not be read whole (cut off, or not valid HTTP).
    static func isUnreadBody(_ error: any Error) -> Bool {
        error is HTTPParserError || (error as? ServerError)?.underlyingError is HTTPParserError
    }

    /// A body the HTTP parser could not read (a broken chunked encoding, fewer bytes than announced): the client's
    /// fault, whatever the operation.
    static var malformedBody: APIProblem {
        APIProblem(
            .badRequest, code: "bad_request", title: "Malformed request", detail: "The request's body could not be read as HTTP.")
    }

    /// The runtime's cause, without the Swift type names and coding paths it sometimes carries.
    static func plainCause(_ cause: String) -> String {
        let firstLine = cause.split(separator: "\n").first.map(String.init) ?? cause
        guard !firstLine.contains("DecodingError"), !firstLine.contains("CodingKeys"), firstLine.count <= 200 else {
            return "A parameter or the body does not match the contract."
        }
        return firstLine
    }

    static func problem(forStatus status: HTTPResponse.Status, headers: HTTPFields) -> APIProblem {
        let code: String
        switch status.code {
        case 400: code = "bad_request"
        case 401: code = "unauthenticated"
        case 403: code = "forbidden"
        case 404: code = "not_found"
        case 405: code = "method_not_allowed"
        case 408: code = "request_timeout"
        case 413: code = "payload_too_large"
        case 415: code = "unsupported_media_type"
        case 429: code = "too_many_requests"
        case 500..<600: code = "internal_error"
        default: code = "http_\(status.code)"
        }
        return APIProblem(status, code: code, title: status.reasonPhrase, headers: headers)
    }

    static func response(for problem: APIProblem) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(problem.schema)) ?? Data(#"{"code":"internal_error"}"#.utf8)
        var headers = problem.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: problem.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension FieldError {
    /// A JSON decoding failure in plain words, pointing at the field where it happened.
    init(_ error: DecodingError) {
        func pointer(_ path: [any CodingKey]) -> String {
            jsonPointer(path.map { $0.intValue.map(String.init) ?? $0.stringValue })
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(pointer(context.codingPath + [key]), "required", "This field is required.")
        case .valueNotFound(_, let context):
            self.init(pointer(context.codingPath), "required", "This field may not be null.")
        case .typeMismatch(let type, let context):
            self.init(pointer(context.codingPath), "invalid_type", "Expected \(FieldError.plainName(of: type)).")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init("", "malformed_json", "The body is not valid JSON.")
            } else {
                self.init(pointer(context.codingPath), "invalid_value", "This value is not one the contract allows.")
            }
        @unknown default:
            self.init("", "malformed_json", "The body does not match the contract.")
        }
    }

    /// A query parameter that did not decode: named by the decoder's path when it says, else by the request's only
    /// query parameter that is not a plain paging one, else the empty pointer (the whole query).
    init(parameter error: DecodingError, in request: HTTPRequest) {
        let names =
            (request.path ?? "").split(separator: "?", maxSplits: 1).dropFirst().first.map {
                $0.split(separator: "&").compactMap {
                    $0.split(separator: "=", maxSplits: 1).first.map { String($0).removingPercentEncoding ?? "" }
                }
            } ?? []
        var path: [any CodingKey] = []
        switch error {
        case .keyNotFound(_, let context), .valueNotFound(_, let context), .typeMismatch(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        @unknown default: break
        }
        let named = path.first.map(\.stringValue).flatMap { names.contains($0) ? $0 : nil }
        let candidates = Array(Set(names)).filter { !["cursor"].contains($0) }
        let name = named ?? (candidates.count == 1 ? candidates[0] : nil)
        self.init(name.map { "/\($0)" } ?? "", "invalid_value", "Not a value this parameter takes (see the contract).")
    }

    static func plainName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        default: "a value of another type"
        }
    }
}
