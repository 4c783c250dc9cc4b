import API
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How a test reaches the application: straight into its router (no socket), or over TCP to a real server on a free port.
///
/// Our own harness rather than HummingbirdTesting, whose async-http-client dependency brought NIOSSL, a second
/// BoringSSL and swift-certificates into every test build for two methods.
enum TestMode {
    case router
    case live
}

/// A response as tests read it.
struct TestResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer
}

protocol TestClientProtocol: Sendable {
    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse
    /// Writes `bytes` as they are on a new connection, closes its sending half, and returns the status line's code
    /// (0 when the server closed without answering): requests no HTTP client would send. Live servers only.
    func exchangeRaw(_ bytes: [UInt8]) async throws -> Int
}

extension TestClientProtocol {
    func exchangeRaw(_ bytes: [UInt8]) async throws -> Int { throw HarnessError.notLive }
}

extension TestClientProtocol {
    func execute<Value>(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
        _ read: (TestResponse) async throws -> Value
    ) async throws -> Value {
        try await read(try await executeRequest(uri: uri, method: method, headers: headers, body: body))
    }
}

/// The application under test: its router's responder and the logger `mdp serve` would give it.
struct TestApplication: Sendable {
    let responder: RouterResponder<APIRequestContext>
    let logger: Logger

    init(router: Router<APIRequestContext>, logger: Logger) {
        responder = router.buildResponder()
        self.logger = logger
    }

    func test<Value>(_ mode: TestMode, _ run: (any TestClientProtocol) async throws -> Value) async throws -> Value {
        switch mode {
        case .router:
            return try await run(RouterClient(responder: responder, logger: logger))
        case .live:
            return try await runLive(responder, run)
        }
    }

    private func runLive<Value>(
        _ responder: some HTTPResponder<APIRequestContext>, _ run: (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }, logger: logger)
        let services = ServiceGroup(configuration: .init(services: [application], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            do {
                guard let port = await iterator.next(), port > 0 else { throw HarnessError.serverDidNotStart }
                let value = try await run(LiveClient(base: "http://127.0.0.1:\(port)"))
                await services.triggerGracefulShutdown()
                return value
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }
}

/// Runs blocking work on a thread of its own, off the cooperative threads the server under test runs on.
private func onAThreadOfItsOwn<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

enum HarnessError: Error {
    case serverDidNotStart
    case notHTTP
    case notLive
    case socket(Int32)
}

/// Hands a request to the router as the server would, collecting the whole response body.
private struct RouterClient<Responder: HTTPResponder>: TestClientProtocol where Responder.Context == APIRequestContext {
    let responder: Responder
    let logger: Logger

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var headers = headers
        if let body { headers[.contentLength] = String(body.readableBytes) }
        let request = Request(
            head: .init(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers),
            body: RequestBody(buffer: body ?? ByteBuffer()))
        let context = APIRequestContext(source: .init(channel: EmbeddedChannel(), logger: logger))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch {
            // What the server itself answers to an error no middleware turned into a response.
            response = Response(status: (error as? any HTTPResponseError)?.status ?? .internalServerError)
        }
        let collected = Collected()
        try await response.body.write(CollectingWriter(collected: collected))
        return TestResponse(status: response.status, headers: response.headers, body: collected.buffer.withLock { $0 })
    }
}

private final class Collected: Sendable {
    let buffer = Mutex(ByteBuffer())
}

private struct CollectingWriter: ResponseBodyWriter {
    let collected: Collected

    func write(_ buffer: ByteBuffer) async throws {
        collected.buffer.withLock { _ = $0.writeImmutableBuffer(buffer) }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// HTTP/1.1 over a real socket, through Foundation's URLSession (libcurl underneath on Linux).
private struct LiveClient: TestClientProtocol {
    let base: String
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 8
        return URLSession(configuration: configuration)
    }()

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        guard let url = URL(string: base + uri) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method.rawValue
        for field in headers { request.addValue(field.value, forHTTPHeaderField: field.name.rawName) }
        if let body { request.httpBody = Data(buffer: body) }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw HarnessError.notHTTP }
        var fields = HTTPFields()
        for (name, value) in http.allHeaderFields {
            if let name = (name as? String).flatMap({ HTTPField.Name($0) }), let value = value as? String {
                fields.append(HTTPField(name: name, value: value))
            }
        }
        return TestResponse(status: .init(code: http.statusCode), headers: fields, body: ByteBuffer(data: data))
    }

    func exchangeRaw(_ bytes: [UInt8]) async throws -> Int {
        guard let port = URL(string: base)?.port.flatMap(UInt16.init(exactly:)) else { throw URLError(.badURL) }
        return try await onAThreadOfItsOwn {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw HarnessError.socket(errno) }
            defer { close(descriptor) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw HarnessError.socket(errno) }
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw HarnessError.socket(errno) }
                sent += count
            }
            shutdown(descriptor, Int32(SHUT_WR))
            var answer = [UInt8](repeating: 0, count: 64)
            let read = recv(descriptor, &answer, answer.count, 0)
            let line = String(decoding: answer.prefix(max(read, 0)), as: UTF8.self).split(separator: " ")
            return line.count > 1 ? Int(line[1]) ?? 0 : 0
        }
    }
}
