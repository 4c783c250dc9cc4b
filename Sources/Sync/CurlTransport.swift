import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The generated API client's transport: its requests go through the engine's libcurl client. Bodies never sit whole
/// in memory where they can be large: a request body (an upload) is spooled to a scratch file and streamed from it,
/// a document's content is received into a scratch file and handed on in chunks; JSON answers are read into memory,
/// bounded.
struct CurlTransport: ClientTransport {
    let http: HTTPClient
    let scratch: URL

    func send(_ request: HTTPTypes.HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (
        HTTPTypes.HTTPResponse, HTTPBody?
    ) {
        var url = baseURL.absoluteString
        while url.hasSuffix("/") { url.removeLast() }
        url += request.path ?? ""
        var spooled: URL?
        defer { if let spooled { try? FileManager.default.removeItem(at: spooled) } }
        var outgoing: HTTPRequest.Body = .none
        if let body {
            let file = scratch.appendingPathComponent("mdp-api-\(UUID().uuidString).body")
            spooled = file
            try await Self.spool(body, to: file)
            outgoing = .file(file)
        }
        let received =
            operationID == Operations.DownloadDocument.id ? scratch.appendingPathComponent("mdp-api-\(UUID().uuidString).part") : nil
        let response: HTTPResponse
        do {
            response = try await http.perform(
                HTTPRequest(
                    method: request.method.rawValue, url: url, headers: request.headerFields.map { ($0.name.rawName, $0.value) },
                    body: outgoing),
                sink: received.map { .file($0) } ?? .memory(limit: 64 << 20))
        } catch {
            if let received { try? FileManager.default.removeItem(at: received) }
            throw error
        }
        // HTTPTypes traps on a status outside 0...999: a server's answer is checked before it becomes one.
        guard (100...599).contains(response.status) else {
            if let received { try? FileManager.default.removeItem(at: received) }
            throw APIError.status(response.status, "not an HTTP status")
        }
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let head = HTTPTypes.HTTPResponse(status: .init(code: response.status), headerFields: fields)
        if let received {
            return (
                head,
                HTTPBody(
                    FileReader(file: received, removeAtEnd: true), length: .known(Int64(response.bodyBytes)), iterationBehavior: .single)
            )
        }
        return (head, HTTPBody(response.body))
    }

    /// Writes a body to `file`, chunk by chunk.
    static func spool(_ body: HTTPBody, to file: URL) async throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw SyncError.checkFailed(path: file.path, reason: "cannot create a scratch file")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        for try await chunk in body { try handle.write(contentsOf: chunk) }
    }
}

/// A file read in chunks of 64 KiB; with `removeAtEnd`, a scratch file (a received document) removed once read.
struct FileReader: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let file: URL
    var removeAtEnd = false

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: URL
        let removeAtEnd: Bool
        var handle: FileHandle?
        var done = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            if done { return nil }
            if handle == nil { handle = try FileHandle(forReadingFrom: file) }
            if let chunk = try handle?.read(upToCount: 1 << 16), !chunk.isEmpty { return ArraySlice(chunk) }
            try? handle?.close()
            if removeAtEnd { try? FileManager.default.removeItem(at: file) }
            done = true
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file, removeAtEnd: removeAtEnd) }
}

/// The service token on every request, and every refusal said as the engine's `APIError` before the generated code
/// decodes anything (401/403: the token; 412: read the feed again; 429/5xx: retried by the engine).
struct APIAnswers: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPTypes.HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPTypes.HTTPRequest, HTTPBody?, URL) async throws -> (HTTPTypes.HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPTypes.HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        let (response, answer) = try await next(request, body, baseURL)
        switch response.status.code {
        case 200..<300: return (response, answer)
        case 401, 403: throw APIError.unauthorized
        case 412: throw APIError.stale
        default:
            var text = ""
            if let answer { text = (try? await String(collecting: answer, upTo: 1 << 20)) ?? "" }
            throw APIError.status(response.status.code, String(text.prefix(300)))
        }
    }
}
