import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The generated layer percent-encodes response header values (swift-openapi-generator issue #857), which turns
/// `"abc"` into `%22abc%22` and breaks `ETag` and `Cache-Control`. Our header values are plain ASCII without `%`,
/// so decoding them back restores exactly what the handler set.
struct HeaderValueMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        var fields = HTTPFields()
        for field in response.headerFields {
            let value = field.value.contains("%") ? (field.value.removingPercentEncoding ?? field.value) : field.value
            fields.append(HTTPField(name: field.name, value: value))
        }
        response.headerFields = fields
        return (response, responseBody)
    }
}
