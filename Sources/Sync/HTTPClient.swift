import CCurl
import Foundation

/// An HTTP request as the sync engine makes them, to our API and to the Drive: any method, any headers, a body from
/// memory or streamed from a file.
public struct HTTPRequest: Sendable {
    public enum Body: Sendable {
        case none
        case data(Data)
        /// Streamed from the file; memory does not grow with its size.
        case file(URL)
    }

    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Body

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: Body = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Where a response body goes.
public enum ResponseSink: Sendable {
    /// Kept in memory up to `limit` bytes (listings, JSON); more is an error.
    case memory(limit: Int)
    /// Streamed to this file, created or truncated.
    case file(URL)
}

/// A response: status, headers (names lowercased, in order), and the body when it was kept in memory.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: Data
    /// Bytes written, whatever the sink.
    public let bodyBytes: Int

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name == lower }?.value
    }
}

/// What went wrong below HTTP: the transfer did not complete.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public let code: Int
    public let message: String

    /// Timeouts, resets, refused connections and the like, worth retrying.
    public var isTransient: Bool {
        [CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE]
            .map { Int($0.rawValue) }.contains(code)
    }

    public var description: String { "transport error \(code): \(message)" }
}

/// Settings shared by every transfer of a client.
public struct HTTPClientOptions: Sendable {
    public var connectTimeout: TimeInterval = 10
    /// A transfer slower than `lowSpeedBytesPerSecond` for `lowSpeedTime` seconds is aborted.
    public var lowSpeedBytesPerSecond = 1
    public var lowSpeedTime: TimeInterval = 30
    public var verifyTLS = true
    /// A PEM bundle of trusted certificate authorities, instead of the system's.
    public var caBundle: String?
    /// HTTP basic authentication.
    public var basicAuth: (user: String, password: String)?
    public var userAgent = "mdp-sync"
    /// At most this many transfers at once (the rest wait).
    public var maxParallel = 4

    public init() {}
}

/// HTTP over libcurl for the sync engine. Each transfer runs on its own thread with an easy handle taken from a pool,
/// so connections are reused; proxy variables (`https_proxy`, `no_proxy`…) are honoured by libcurl itself.
public final class HTTPClient: @unchecked Sendable {
    public let options: HTTPClientOptions
    private let lock = NSLock()
    private var idle: [OpaquePointer] = []
    private let slots: DispatchSemaphore
    private let queue = DispatchQueue(label: "mdp.sync.http", attributes: .concurrent)

    public init(options: HTTPClientOptions = .init()) {
        _ = Curl.info
        self.options = options
        slots = DispatchSemaphore(value: max(1, options.maxParallel))
    }

    deinit {
        for handle in idle { curl_easy_cleanup(UnsafeMutableRawPointer(handle)) }
    }

    /// Performs `request`, the body going to `sink`. Throws `TransportError` when no response came back.
    public func perform(_ request: HTTPRequest, sink: ResponseSink = .memory(limit: 16 << 20)) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                self.slots.wait()
                defer { self.slots.signal() }
                continuation.resume(with: Result { try self.performBlocking(request, sink: sink) })
            }
        }
    }

    private func takeHandle() -> UnsafeMutableRawPointer {
        lock.lock()
        defer { lock.unlock() }
        if let handle = idle.popLast() { return UnsafeMutableRawPointer(handle) }
        return curl_easy_init()
    }

    private func returnHandle(_ handle: UnsafeMutableRawPointer) {
        curl_easy_reset(handle)
        lock.lock()
        idle.append(OpaquePointer(handle))
        lock.unlock()
    }

    private func performBlocking(_ request: HTTPRequest, sink: ResponseSink) throws -> HTTPResponse {
        let handle = takeHandle()
        defer { returnHandle(handle) }
        let state = try Transfer(request: request, sink: sink)
        defer { state.close() }
        let opaque = Unmanaged.passUnretained(state).toOpaque()

        mdp_curl_setopt_string(handle, CURLOPT_URL, request.url)
        mdp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        mdp_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        mdp_curl_setopt_string(handle, CURLOPT_USERAGENT, options.userAgent)
        mdp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        mdp_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond)
        mdp_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, Int(options.lowSpeedTime))
        mdp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, options.verifyTLS ? 1 : 0)
        mdp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, options.verifyTLS ? 2 : 0)
        if let bundle = options.caBundle { mdp_curl_setopt_string(handle, CURLOPT_CAINFO, bundle) }
        if let auth = options.basicAuth {
            mdp_curl_setopt_long(handle, CURLOPT_HTTPAUTH, 1)  // CURLAUTH_BASIC, a macro Swift does not import
            mdp_curl_setopt_string(handle, CURLOPT_USERNAME, auth.user)
            mdp_curl_setopt_string(handle, CURLOPT_PASSWORD, auth.password)
        }
        switch request.method {
        case "GET": mdp_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": mdp_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: mdp_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in request.headers + [("Expect", "")] {
            list = curl_slist_append(list, "\(header.0): \(header.1)")
        }
        defer { curl_slist_free_all(list) }
        mdp_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))

        mdp_curl_setopt_callback(
            handle, CURLOPT_WRITEFUNCTION,
            { buffer, size, count, userdata in
                Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().receive(buffer, size * count)
            })
        mdp_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        mdp_curl_setopt_callback(
            handle, CURLOPT_HEADERFUNCTION,
            { buffer, size, count, userdata in
                Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().header(buffer, size * count)
            })
        mdp_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        if let length = state.uploadLength {
            mdp_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            if request.method != "PUT" { mdp_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method) }
            mdp_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(length))
            mdp_curl_setopt_callback(
                handle, CURLOPT_READFUNCTION,
                { buffer, size, count, userdata in
                    Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().send(buffer, size * count)
                })
            mdp_curl_setopt_pointer(handle, CURLOPT_READDATA, opaque)
            mdp_curl_setopt_seek(
                handle, CURLOPT_SEEKFUNCTION,
                { userdata, offset, origin in
                    Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().seek(Int(offset), origin: origin)
                })
            mdp_curl_setopt_pointer(handle, CURLOPT_SEEKDATA, opaque)
        }

        let code = curl_easy_perform(handle)
        if let failure = state.failure { throw failure }
        guard code == CURLE_OK else {
            throw TransportError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        mdp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        try state.finish()
        return HTTPResponse(status: status, headers: state.headers, body: state.memory, bodyBytes: state.received)
    }
}

/// The per-transfer state the C callbacks reach through their user-data pointer.
final class Transfer {
    var headers: [(name: String, value: String)] = []
    var memory = Data()
    var received = 0
    var failure: Error?
    let memoryLimit: Int?
    let output: FileHandle?
    let input: FileHandle?
    let inputData: Data?
    var inputOffset = 0
    let uploadLength: Int?

    init(request: HTTPRequest, sink: ResponseSink) throws {
        switch sink {
        case .memory(let limit):
            memoryLimit = limit
            output = nil
        case .file(let url):
            memoryLimit = nil
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            output = try FileHandle(forWritingTo: url)
        }
        switch request.body {
        case .none:
            input = nil
            inputData = nil
            uploadLength = nil
        case .data(let data):
            input = nil
            inputData = data
            uploadLength = data.count
        case .file(let url):
            input = try FileHandle(forReadingFrom: url)
            inputData = nil
            uploadLength = Int((try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    func receive(_ buffer: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let buffer, length > 0 else { return 0 }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        received += length
        if let output {
            do { try output.write(contentsOf: bytes) } catch {
                failure = error
                return 0
            }
        } else {
            guard received <= memoryLimit ?? .max else {
                failure = TransportError(code: -1, message: "response larger than \(memoryLimit ?? 0) bytes")
                return 0
            }
            memory.append(contentsOf: bytes)
        }
        return length
    }

    func header(_ buffer: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let buffer else { return 0 }
        let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 100 Continue or a redirect) starts
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            headers.append((name, value))
        }
        return length
    }

    func send(_ buffer: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let buffer else { return mdp_curl_readfunc_abort() }
        if let inputData {
            let count = min(length, inputData.count - inputOffset)
            inputData.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + inputOffset, byteCount: count)
            }
            inputOffset += count
            return count
        }
        guard let input else { return 0 }
        do {
            guard let chunk = try input.read(upToCount: length), !chunk.isEmpty else { return 0 }
            chunk.copyBytes(to: UnsafeMutableRawBufferPointer(start: buffer, count: chunk.count))
            return chunk.count
        } catch {
            failure = error
            return mdp_curl_readfunc_abort()
        }
    }

    /// Rewinds the request body (libcurl asks when it must send it again). 0 is CURL_SEEKFUNC_OK, 1 FAIL.
    func seek(_ offset: Int, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0 else { return 1 }
        if inputData != nil {
            inputOffset = offset
            return 0
        }
        guard let input else { return 1 }
        do {
            try input.seek(toOffset: UInt64(offset))
            return 0
        } catch {
            return 1
        }
    }

    func finish() throws {
        try output?.synchronize()
    }

    func close() {
        try? output?.close()
        try? input?.close()
    }
}
