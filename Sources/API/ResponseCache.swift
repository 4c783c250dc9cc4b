import Domain
import HTTPTypes
import Hummingbird
import NIOCore
import Storage
import Synchronization

/// Keeps the encoded responses of the public directory, keyed by URI and valid for one directory revision: widgets
/// ask the same few queries over and over, and between two card writes the answer cannot change. A write to any card
/// moves the revision, so a cached answer is never served stale. Bounded in entries and bytes.
struct DirectoryResponseCache: RouterMiddleware {
    typealias Context = APIRequestContext
    static let prefix = "/v1/directory/"
    let database: AppDatabase
    let store = Store()

    final class Store: Sendable {
        struct Entry: Sendable {
            let revision: Int64
            let status: HTTPResponse.Status
            let headers: HTTPFields
            let body: ByteBuffer
        }

        static let maxEntries = 2048
        static let maxBytes = 32 << 20

        private struct State {
            var entries: [String: Entry] = [:]
            var bytes = 0
        }

        private let state = Mutex(State())

        func get(_ key: String, revision: Int64) -> Entry? {
            state.withLock { state in
                guard let entry = state.entries[key], entry.revision == revision else { return nil }
                return entry
            }
        }

        func put(_ key: String, _ entry: Entry) {
            state.withLock { state in
                if state.entries.count >= Self.maxEntries || state.bytes + entry.body.readableBytes > Self.maxBytes {
                    state.entries.removeAll(keepingCapacity: true)
                    state.bytes = 0
                }
                state.bytes += entry.body.readableBytes - (state.entries[key]?.body.readableBytes ?? 0)
                state.entries[key] = entry
            }
        }
    }

    /// Gathers a response body into one buffer.
    final class Collector: ResponseBodyWriter {
        var buffer = ByteBuffer()
        func write(_ buffer: ByteBuffer) async throws { self.buffer.writeImmutableBuffer(buffer) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get, request.uri.path.hasPrefix(Self.prefix) else { return try await next(request, context) }
        let database = self.database
        let index: DirectoryIndex
        if let cached = database.cachedDirectoryIndex() {
            index = cached
        } else {
            index = try await storage { try database.directoryIndex() }
        }
        let revision = index.revision
        let key = request.uri.description
        if let entry = store.get(key, revision: revision) {
            if let tag = entry.headers[.eTag], let ifNoneMatch = request.headers[.ifNoneMatch],
                EntityTag.matches(ifNoneMatch: ifNoneMatch, etag: tag)
            {
                var headers = entry.headers
                headers[.contentType] = nil
                return Response(status: .notModified, headers: headers)
            }
            return Response(status: entry.status, headers: entry.headers, body: .init(byteBuffer: entry.body))
        }
        let response = try await next(request, context)
        guard response.status == .ok else { return response }
        let collector = Collector()
        try await response.body.write(collector)
        let entry = Store.Entry(revision: revision, status: response.status, headers: response.headers, body: collector.buffer)
        store.put(key, entry)
        return Response(status: entry.status, headers: entry.headers, body: .init(byteBuffer: entry.body))
    }
}
