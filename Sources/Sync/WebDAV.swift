import Foundation
import Synchronization

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One resource of a PROPFIND answer.
public struct RemoteEntry: Sendable, Hashable {
    /// The path under the client's base URL, percent-decoded, without leading or trailing slash ("" for the base).
    public let path: String
    public let isCollection: Bool
    /// The entity tag as a header carries it (`"x"`, or `W/"x"` when weak), when the server gives one.
    public let etag: String?
    public let length: Int?
    public let lastModified: Date?
    /// `oc:checksums` when present, by algorithm in upper case ("SHA1", "MD5", "SHA256"…).
    public let checksums: [String: String]

    /// A weak tag cannot guard a replacement (`If-Match` compares strongly): Apache, for one, gives weak tags to files
    /// changed in the last second.
    public var etagIsWeak: Bool { etag?.hasPrefix("W/") ?? false }
}

/// Why a WebDAV call did not do what was asked.
public enum WebDAVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An `If-Match` or `If-None-Match` condition did not hold (412): read again, decide again.
    case preconditionFailed
    case notFound
    case unauthorized
    case locked
    /// 429 or 503: the server asks to come back later (`Retry-After` seconds when it says).
    case throttled(retryAfter: Double?)
    /// 301, 302, 307 or 308, and where to (`Location`), when the server says.
    case redirected(Int, to: String?)
    /// Any other status.
    case status(Int, String)
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .preconditionFailed: "the Drive refused the write: the file changed since it was listed (412)"
        case .notFound: "not found on the Drive (404)"
        case .unauthorized: "the Drive refused the credentials (401/403)"
        case .locked: "locked on the Drive (423)"
        case .throttled(let after): "the Drive asks to come back later" + (after.map { " (in \(Int($0)) s)" } ?? "")
        case .redirected(let code, let location): "the Drive answered \(code), a redirect" + (location.map { " to \($0)" } ?? "")
        case .status(let code, let detail):
            "the Drive answered \(code)" + (Self.readable(detail).map { ": " + $0 } ?? "")
        case .malformedResponse(let detail): "the Drive's answer could not be read: \(detail)"
        }
    }

    /// A server's error page as one short line: its text without tags, spaces collapsed, 200 characters at most.
    static func readable(_ body: String) -> String? {
        var text = ""
        var inTag = false
        for character in body {
            switch character {
            case "<": inTag = true
            case ">" where inTag: inTag = false; text.append(" ")
            default: if !inTag { text.append(character.isNewline ? " " : character) }
            }
        }
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return words.isEmpty ? nil : String(words.prefix(200))
    }
}

/// WebDAV on top of the libcurl client: PROPFIND at depth 0 or 1 only, conditional PUT, GET to a file, MKCOL, MOVE,
/// COPY, DELETE. Paths are plain strings with `/` between segments; each segment is percent-encoded here.
public struct WebDAVClient: Sendable {
    public let base: URL
    public let http: HTTPClient
    /// The Drive's time, as the `Date` header of each of its answers tells it.
    public let clock: DriveClock

    public init(base: URL, http: HTTPClient, clock: DriveClock = DriveClock()) {
        self.base = base
        self.http = http
        self.clock = clock
    }

    /// Every request to the Drive goes through here, so its clock hears each answer.
    private func perform(_ request: HTTPRequest, sink: ResponseSink = .memory(limit: 16 << 20)) async throws -> HTTPResponse {
        let response = try await http.perform(request, sink: sink)
        clock.heard(response)
        return response
    }

    /// The URL of `path` under the base, every segment percent-encoded (so `#`, `%`, `?`, quotes and spaces travel).
    public func url(_ path: String, collection: Bool = false) -> String {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments { text += "/" + Self.encode(String(segment)) }
        if collection || segments.isEmpty { text += "/" }
        return text
    }

    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    static func encode(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: unreserved) ?? segment
    }

    static let propfindBody = Data(
        """
        <?xml version="1.0" encoding="utf-8"?>
        <d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
          <d:prop><d:resourcetype/><d:getetag/><d:getcontentlength/><d:getlastmodified/><oc:checksums/></d:prop>
        </d:propfind>
        """.utf8)

    /// PROPFIND at `depth` 0 (the resource) or 1 (it and its children). Nil when the path does not exist.
    public func propfind(_ path: String, depth: Int) async throws -> [RemoteEntry]? {
        precondition(depth == 0 || depth == 1, "a whole tree is asked with listTree")
        return try await propfind(path, depthHeader: String(depth))
    }

    /// A folder and everything below it, in one PROPFIND (`Depth: infinity`), where the server allows it (probed:
    /// wsgidav and rclone do, Apache refuses by default). Nil when the path does not exist.
    public func listTree(_ path: String) async throws -> [RemoteEntry]? {
        try await propfind(path, depthHeader: "infinity")
    }

    private func propfind(_ path: String, depthHeader: String) async throws -> [RemoteEntry]? {
        let response = try await perform(
            HTTPRequest(
                method: "PROPFIND", url: url(path, collection: depthHeader != "0"),
                headers: [("Depth", depthHeader), ("Content-Type", "application/xml; charset=utf-8")], body: .data(Self.propfindBody)))
        if response.status == 404 { return nil }
        try Self.check(response, expected: [207])
        return try MultistatusParser.parse(response.body, basePath: base.path)
    }

    /// The entries directly inside a collection (the collection itself left out).
    public func list(_ path: String) async throws -> [RemoteEntry]? {
        let trimmed = path.split(separator: "/").joined(separator: "/")
        return try await propfind(path, depth: 1)?.filter { $0.path != trimmed }
    }

    /// Creates a collection; an existing one is fine.
    public func makeCollection(_ path: String) async throws {
        let response = try await perform(HTTPRequest(method: "MKCOL", url: url(path, collection: true)))
        if response.status == 405 { return }  // already there
        try Self.check(response, expected: [201])
    }

    /// How a PUT may replace what is there.
    public enum Precondition: Sendable {
        /// Only if nothing is there (`If-None-Match: *`).
        case create
        /// Only if the current version has this entity tag (`If-Match`).
        case replace(etag: String)
        /// Whatever is there: only for a name the engine made for itself (its probe files, its uploads waiting to be
        /// moved into place), never a path someone else may write.
        case ownFile
    }

    /// Uploads a file under a precondition and returns the new entity tag: from the PUT's answer when the server
    /// sends one, else from one PROPFIND at depth 0.
    public func put(_ path: String, file: URL, precondition: Precondition) async throws -> String? {
        let condition: [(String, String)] =
            switch precondition {
            case .create: [("If-None-Match", "*")]
            case .replace(let etag): [("If-Match", Self.normalizedETag(etag))]
            case .ownFile: []
            }
        let response = try await perform(
            HTTPRequest(
                method: "PUT", url: url(path), headers: condition + [("Content-Type", "application/octet-stream")], body: .file(file)))
        try Self.check(response, expected: [200, 201, 204])
        if let etag = response.header("etag") { return Self.normalizedETag(etag) }
        return try await propfind(path, depth: 0)?.first?.etag
    }

    /// The base URL itself, as given (no slash added), at depth 0: what a root that is not a folder is.
    public func baseResource() async throws -> RemoteEntry? {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        let response = try await perform(
            HTTPRequest(
                method: "PROPFIND", url: text, headers: [("Depth", "0"), ("Content-Type", "application/xml; charset=utf-8")],
                body: .data(Self.propfindBody)))
        if response.status == 404 { return nil }
        try Self.check(response, expected: [207])
        return try MultistatusParser.parse(response.body, basePath: base.path).first
    }

    /// Downloads to `file` (created or truncated) and returns the response for its headers.
    public func get(_ path: String, to file: URL) async throws -> HTTPResponse {
        let response = try await perform(HTTPRequest(method: "GET", url: url(path)), sink: .file(file))
        try Self.check(response, expected: [200])
        return response
    }

    public func delete(_ path: String, ifMatch etag: String? = nil) async throws {
        let headers = etag.map { [("If-Match", Self.normalizedETag($0))] } ?? []
        let response = try await perform(HTTPRequest(method: "DELETE", url: url(path), headers: headers))
        try Self.check(response, expected: [200, 204])
    }

    /// Moves a resource; never over an existing one (`Overwrite: F`).
    public func move(_ path: String, to destination: String) async throws {
        let response = try await perform(
            HTTPRequest(method: "MOVE", url: url(path), headers: [("Destination", url(destination)), ("Overwrite", "F")]))
        try Self.check(response, expected: [201, 204])
    }

    /// Copies a resource; never over an existing one.
    public func copy(_ path: String, to destination: String) async throws {
        let response = try await perform(
            HTTPRequest(method: "COPY", url: url(path), headers: [("Destination", url(destination)), ("Overwrite", "F")]))
        try Self.check(response, expected: [201, 204])
    }

    static func check(_ response: HTTPResponse, expected: Set<Int>) throws {
        if expected.contains(response.status) { return }
        switch response.status {
        case 412: throw WebDAVError.preconditionFailed
        case 404: throw WebDAVError.notFound
        case 401, 403: throw WebDAVError.unauthorized
        case 423: throw WebDAVError.locked
        case 429, 503: throw WebDAVError.throttled(retryAfter: response.header("retry-after").flatMap(Double.init))
        case 301, 302, 307, 308: throw WebDAVError.redirected(response.status, to: response.header("location"))
        default: throw WebDAVError.status(response.status, String(decoding: response.body.prefix(2_000), as: UTF8.self))
        }
    }

    /// Whether two tags name the same version, weak or strong (Apache turns a file's weak tag strong a second later).
    public static func sameVersion(_ first: String?, _ second: String?) -> Bool {
        if first == second { return true }  // the usual case, without building strings
        func opaque(_ tag: String?) -> String? {
            guard let tag else { return nil }
            let normalized = normalizedETag(tag)
            return normalized.hasPrefix("W/") ? String(normalized.dropFirst(2)) : normalized
        }
        return opaque(first) == opaque(second)
    }

    /// Tags as headers carry them, whatever the server wrote in a property: `abc` and `"abc"` are `"abc"`, a weak
    /// tag keeps its `W/`.
    public static func normalizedETag(_ tag: String) -> String {
        var tag = tag.trimmingCharacters(in: .whitespaces)
        var weak = false
        if tag.hasPrefix("W/") {
            weak = true
            tag.removeFirst(2)
        }
        if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = String(tag.dropFirst().dropLast()) }
        return (weak ? "W/" : "") + "\"\(tag)\""
    }
}

/// Reads a 207 Multi-Status body: one entry per `response`, properties taken only from `propstat`s whose status is 200.
final class MultistatusParser: NSObject, XMLParserDelegate {
    private let basePath: String
    private var entries: [RemoteEntry] = []
    private var text = ""
    private var href: String?
    private var isCollection = false
    private var etag: String?
    private var length: Int?
    private var lastModified: Date?
    private var checksums: [String: String] = [:]
    private var propstat: (collection: Bool, etag: String?, length: Int?, lastModified: Date?, checksums: [String: String])?
    private var propstatOK = false
    private var sawMultistatus = false

    private init(basePath: String) { self.basePath = basePath }

    /// FoundationXML's parser (libxml2 underneath, a per-thread "current parser") is not documented as safe on several
    /// threads at once on Linux; parsing is short next to the transfer, so listings parsed in parallel take turns.
    private static let oneAtATime = NSLock()

    static func parse(_ data: Data, basePath: String) throws -> [RemoteEntry] {
        let delegate = MultistatusParser(basePath: basePath)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = delegate
        oneAtATime.lock()
        let parsed = parser.parse()
        oneAtATime.unlock()
        guard parsed, delegate.sawMultistatus else {
            throw WebDAVError.malformedResponse(parser.parserError.map { "\($0)" } ?? "not a multistatus")
        }
        return delegate.entries
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        text = ""
        switch (namespaceURI, element) {
        case ("DAV:", "multistatus"):
            sawMultistatus = true
        case ("DAV:", "response"):
            (href, isCollection, etag, length, lastModified, checksums) = (nil, false, nil, nil, nil, [:])
        case ("DAV:", "propstat"):
            propstat = (false, nil, nil, nil, [:])
            propstatOK = false
        case ("DAV:", "collection"):
            propstat?.collection = true
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch (namespaceURI, element) {
        case ("DAV:", "href"): href = value
        case ("DAV:", "getetag"): propstat?.etag = value.isEmpty ? nil : WebDAVClient.normalizedETag(value)
        case ("DAV:", "getcontentlength"): propstat?.length = Int(value)
        case ("DAV:", "getlastmodified"): propstat?.lastModified = HTTPDate.parse(value)
        case ("http://owncloud.org/ns", "checksum"):
            for item in value.split(separator: " ") {
                let parts = item.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { propstat?.checksums[parts[0].uppercased()] = String(parts[1]).lowercased() }
            }
        case ("DAV:", "status"):
            let words = value.split(separator: " ")
            propstatOK = words.count >= 2 && words[1] == "200"
        case ("DAV:", "propstat"):
            if propstatOK, let found = propstat {
                isCollection = isCollection || found.collection
                etag = found.etag ?? etag
                length = found.length ?? length
                lastModified = found.lastModified ?? lastModified
                checksums.merge(found.checksums) { $1 }
            }
            propstat = nil
        case ("DAV:", "response"):
            if let href {
                entries.append(
                    RemoteEntry(
                        path: relativePath(href), isCollection: isCollection, etag: etag, length: length, lastModified: lastModified,
                        checksums: checksums))
            }
        default:
            break
        }
        text = ""
    }

    /// An href (absolute URL or absolute path), percent-decoded, relative to the base path.
    private func relativePath(_ href: String) -> String {
        var path = href
        if let url = URL(string: href), url.scheme != nil { path = url.path(percentEncoded: true) }
        path = path.removingPercentEncoding ?? path
        let base = basePath.removingPercentEncoding ?? basePath
        var trimmedBase = base
        while trimmedBase.hasSuffix("/") { trimmedBase.removeLast() }
        if path.hasPrefix(trimmedBase + "/") || path == trimmedBase { path.removeFirst(trimmedBase.count) }
        return path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}

/// The date formats servers really send in `getlastmodified`: RFC 1123, RFC 850, asctime, and ISO 8601.
public enum HTTPDate {
    public static func parse(_ text: String) -> Date? {
        if let date = rfc1123(text) { return date }
        return formatters.withLock { formatters in formatters.lazy.compactMap { $0.date(from: text) }.first }
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT", the format every server here sends, read without a DateFormatter: a listing
    /// of thousands of files once spent most of its time making formatters.
    static func rfc1123(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", parts[0].count == 4, parts[0].hasSuffix(","),
            let day = Int(parts[1]), (1...31).contains(day), let month = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3]), (1970...9999).contains(year)
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month + 1, day)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        return gregorian.date(from: components)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static let gregorian: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "GMT")!
        return calendar
    }()

    /// Made once (a formatter is costly to make), used one caller at a time.
    static let formatters = Mutex<[DateFormatter]>(
        [
            "EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy", "yyyy-MM-dd'T'HH:mm:ssXXXXX",
            "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX",
        ].map { format in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            return formatter
        })
}
