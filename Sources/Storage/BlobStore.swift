import Crypto
import Domain
import Foundation
import GRDB

/// A file stored by its SHA-256: staged while it is hashed, measured and sniffed (a temporary file synced to disk, or
/// database chunks), then put under its digest by the transaction that records it. A crash leaves at worst a staged
/// upload (swept), never a half-written blob under a real name.
public struct StoredBlob: Sendable, Hashable {
    public let sha256: String
    public let size: Int
    public let type: DocumentType
}

/// Why an upload was refused before it became a document.
public enum BlobError: Error, Sendable, Hashable {
    case tooLarge(limit: Int)
    case unsupportedType
    case empty
    /// The stored bytes are not there (a server fault).
    case missing
    /// An upload waited longer than a sweep allows before its document was recorded.
    case uploadExpired
    /// The bytes that arrived are not those the client declared (`X-Content-SHA256`): cut, altered or the wrong file.
    case digestMismatch
}

/// Document contents by SHA-256, in one of two places: files under a folder (`<root>/<first two hex digits>/<sha256>`,
/// temporary files in `<root>/tmp`: the data folder, or a volume shared by instances), or PostgreSQL itself, so an
/// instance needs nothing but the database URL (chunks of `chunkSize` bytes, written as they arrive and read as they are
/// sent, never whole in memory).
public struct BlobStore: Sendable {
    enum Place: Sendable {
        case folder(URL)
        case postgres(PostgresPool)
    }

    let place: Place
    /// The time now (the database's clock): the age of unfinished uploads.
    let clock: @Sendable () -> Date

    /// How many bytes one database chunk holds.
    static let chunkSize = 256 << 10
    /// How long an upload may stay staged before a sweep takes it for abandoned (several instances: another one may be
    /// receiving it).
    static let abandonedAfter: TimeInterval = 6 * 3600

    /// Files under `root`.
    public init(root: URL, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.place = .folder(root)
        self.clock = clock
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    }

    /// Files already under `root`, read only (nothing is created).
    init(existing root: URL) {
        self.place = .folder(root)
        self.clock = { Date() }
    }

    init(postgres pool: PostgresPool, clock: @escaping @Sendable () -> Date) {
        self.place = .postgres(pool)
        self.clock = clock
    }

    /// The folder of the files, nil when contents live in the database.
    public var root: URL? {
        guard case .folder(let root) = place else { return nil }
        return root
    }

    /// Where the blob with this digest lives (folder store).
    func url(of sha256: String, in root: URL) -> URL {
        root.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    /// Whether a blob with this digest is stored (uploads still waiting for their document are not).
    public func isStored(_ sha256: String) throws -> Bool {
        switch place {
        case .folder(let root): return FileManager.default.fileExists(atPath: url(of: sha256, in: root).path)
        case .postgres(let pool):
            return try pool.withConnection { session in
                try !session.rows("SELECT 1 FROM blob WHERE sha256 = ?", [sha256.databaseValue]).isEmpty
            }
        }
    }

    /// How many received uploads wait for the transaction that records them (or for the sweep).
    public func waitingUploads() throws -> Int {
        switch place {
        case .folder(let root): return try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path).count
        case .postgres(let pool):
            return try pool.withConnection { session in
                try session.rows("SELECT count(*) AS n FROM blob_upload", []).first?["n"] ?? 0
            }
        }
    }

    /// Streams `chunks` to a staging place (a temporary file, or database chunks under an id of the upload's own),
    /// hashing, measuring and recognising it on the way; memory holds one chunk and the first bytes. Nothing is under
    /// its digest yet: the transaction that records the file commits it. `blocking` runs each write: a server passes
    /// its blocking pool, so no disk or database wait happens on Swift concurrency's threads. With `expectedSHA256`, bytes
    /// of another digest are refused and dropped.
    public func stage<Chunks: AsyncSequence>(
        _ chunks: Chunks, limit: Int, fileName: String, expectedSHA256: String? = nil,
        blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void = { try $0() }
    ) async throws -> StagedBlob
    where Chunks.Element == ArraySlice<UInt8> {
        let sink: any StagingSink =
            switch place {
            case .folder(let root): try FileSink(root: root)
            case .postgres(let pool): try await DatabaseSink.open(pool, at: clock(), blocking: blocking)
            }
        do {
            var hasher = SHA256()
            var size = 0
            var head: [UInt8] = []
            for try await chunk in chunks {
                size += chunk.count
                guard size <= limit else { throw BlobError.tooLarge(limit: limit) }
                if head.count < DocumentType.sniffLength { head += chunk.prefix(DocumentType.sniffLength - head.count) }
                hasher.update(data: chunk)
                try await sink.write(chunk, blocking: blocking)
            }
            try await sink.finish(blocking: blocking)
            guard size > 0 else { throw BlobError.empty }
            let sha256 = Hex.string(hasher.finalize())
            if let expectedSHA256, expectedSHA256.lowercased() != sha256 { throw BlobError.digestMismatch }
            guard let type = DocumentType.sniff(head, fileName: fileName) else { throw BlobError.unsupportedType }
            return StagedBlob(stored: StoredBlob(sha256: sha256, size: size, type: type), staging: sink.staging)
        } catch {
            // What arrived of a refused or cut upload is dropped now (the sweep takes it if even this fails).
            try? await blocking { sink.abandon() }
            throw error
        }
    }

    /// Puts a staged upload under its digest (the same bytes already there are kept, the copy dropped), the last step
    /// of the transaction `db` that records it (the folder store needs none). Called again for the same upload, it does
    /// nothing.
    func commit(_ staged: StagedBlob, in db: SQLConnection?) throws {
        switch (staged.staging, place) {
        case (.none, _): return
        case (.file(let temporary), .folder(let root)):
            guard FileManager.default.fileExists(atPath: temporary.path) else { return }
            let destination = url(of: staged.stored.sha256, in: root)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: destination.path) {
                try FileManager.default.removeItem(at: temporary)
            } else if rename(temporary.path, destination.path) != 0 {
                throw CocoaError(.fileWriteUnknown)
            }
        case (.upload(let id), .postgres):
            guard let db else { throw BlobError.uploadExpired }
            try db.execute(sql: "DELETE FROM blob_upload WHERE content_id = ?", arguments: [id])
            // Swept as abandoned, or committed already by an earlier call.
            guard db.changesCount == 1 else {
                guard
                    try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM blob WHERE sha256 = ?)", arguments: [staged.stored.sha256])
                        == true
                else { throw BlobError.uploadExpired }
                return
            }
            try db.execute(
                sql: "INSERT INTO blob (sha256, content_id, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                arguments: [staged.stored.sha256, id, staged.stored.size, clock()])
            if db.changesCount == 0 { try db.execute(sql: "DELETE FROM blob_chunk WHERE content_id = ?", arguments: [id]) }
        default:
            throw BlobError.uploadExpired
        }
    }

    /// Drops a staged upload its transaction did not record (a refusal after the bytes arrived). Runs where blocking
    /// is allowed (the storage pool).
    func drop(_ staged: StagedBlob) {
        switch staged.staging {
        case .none: return
        case .file(let temporary): try? FileManager.default.removeItem(at: temporary)
        case .upload(let id):
            guard case .postgres(let pool) = place else { return }
            _ = try? pool.transaction(writing: true) { session in
                guard try session.execute("DELETE FROM blob_upload WHERE content_id = ?", [id.databaseValue]) == 1 else { return }
                _ = try session.execute("DELETE FROM blob_chunk WHERE content_id = ?", [id.databaseValue])
            }
        }
    }

    /// Stages and commits at once, in a transaction of its own (generated files, tests: nothing can refuse them in
    /// between).
    public func store<Chunks: AsyncSequence>(_ chunks: Chunks, limit: Int, fileName: String) async throws -> StoredBlob
    where Chunks.Element == ArraySlice<UInt8> {
        let staged = try await stage(chunks, limit: limit, fileName: fileName)
        defer { staged.discard() }
        switch place {
        case .folder: try commit(staged, in: nil)
        case .postgres(let pool):
            try pool.transaction(writing: true) { session in try commit(staged, in: SQLConnection(.postgres(session))) }
        }
        return staged.stored
    }

    /// The bytes of `range` of a stored blob, read a piece at a time (on `blocking`) as the response is sent. Throws
    /// before any byte when the blob is missing.
    public func contents(
        of sha256: String, range: Range<Int>,
        blocking: @escaping @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void = { try $0() }
    ) async throws -> BlobContents {
        switch place {
        case .folder(let root):
            let url = url(of: sha256, in: root)
            let handle = Locked<FileHandle?>(nil)
            try await blocking {
                // A recorded blob whose file is gone is a server fault, said the same way on both stores.
                guard let file = try? FileHandle(forReadingFrom: url) else { return }
                try file.seek(toOffset: UInt64(range.lowerBound))
                handle.value = file
            }
            guard let file = handle.value else { throw BlobError.missing }
            return BlobContents(source: .file(file), range: range, blocking: blocking)
        case .postgres(let pool):
            let found = Locked<(id: String, size: Int)?>(nil)
            try await blocking {
                found.value = try pool.withConnection { session in
                    try session.rows("SELECT content_id, size FROM blob WHERE sha256 = ?", [sha256.databaseValue]).first.map {
                        ($0["content_id"], $0["size"])
                    }
                }
            }
            guard let blob = found.value, range.upperBound <= blob.size else { throw BlobError.missing }
            return BlobContents(source: .database(pool, contentID: blob.id), range: range, blocking: blocking)
        }
    }

    /// Removes what no document version refers to: blobs of uploads refused or interrupted after they were stored, and
    /// unfinished uploads. The folder store is swept before its server takes requests (an upload in flight would look
    /// unreferenced); the database store, shared by instances, only sweeps what is older than `abandonedAfter`.
    func sweep(_ db: SQLConnection) throws -> Int {
        switch place {
        case .folder(let root):
            let referenced = Set(try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM document_version"))
            var removed = 0
            let manager = FileManager.default
            for folder in try manager.contentsOfDirectory(atPath: root.path) {
                let path = root.appendingPathComponent(folder)
                for name in (try? manager.contentsOfDirectory(atPath: path.path)) ?? [] where folder == "tmp" || !referenced.contains(name)
                {
                    try manager.removeItem(at: path.appendingPathComponent(name))
                    removed += 1
                }
            }
            return removed
        case .postgres:
            let before = clock().addingTimeInterval(-Self.abandonedAfter)
            let uploads = try String.fetchAll(db, sql: "SELECT content_id FROM blob_upload WHERE created_at < ?", arguments: [before])
            let blobs = try Row.fetchAll(
                db,
                sql: """
                    SELECT sha256, content_id FROM blob WHERE created_at < ?
                    AND NOT EXISTS (SELECT 1 FROM document_version v WHERE v.sha256 = blob.sha256)
                    """, arguments: [before])
            for id in uploads {
                try db.execute(sql: "DELETE FROM blob_chunk WHERE content_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM blob_upload WHERE content_id = ?", arguments: [id])
            }
            for row in blobs {
                try db.execute(sql: "DELETE FROM blob WHERE sha256 = ?", arguments: [row["sha256"] as String])
                try db.execute(sql: "DELETE FROM blob_chunk WHERE content_id = ?", arguments: [row["content_id"] as String])
            }
            // Chunks of no upload and no blob: written after their upload's row was lost (a connection cut while it was
            // being inserted). An upload's row is inserted before its first chunk and becomes the blob's row in one
            // transaction, so no chunk of a live upload is ever without one of them.
            try db.execute(
                sql: """
                    DELETE FROM blob_chunk WHERE NOT EXISTS (SELECT 1 FROM blob_upload u WHERE u.content_id = blob_chunk.content_id)
                    AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.content_id = blob_chunk.content_id)
                    """)
            return uploads.count + blobs.count + db.changesCount
        }
    }
}

/// Where an upload's bytes go while it is received.
private protocol StagingSink: Sendable {
    var staging: StagedBlob.Staging { get }
    func write(_ chunk: ArraySlice<UInt8>, blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void)
        async throws
    func finish(blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void) async throws
    /// Drops what was written (the upload failed or was refused while it arrived). Runs where blocking is allowed.
    func abandon()
}

/// A temporary file, synced to disk before the upload counts as received.
private struct FileSink: StagingSink {
    let temporary: URL
    let handle: FileHandle

    init(root: URL) throws {
        temporary = root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        handle = try FileHandle(forWritingTo: temporary)
    }

    var staging: StagedBlob.Staging { .file(temporary) }

    func write(_ chunk: ArraySlice<UInt8>, blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void)
        async throws
    {
        let handle = handle
        try await blocking { try handle.write(contentsOf: chunk) }
    }

    func finish(blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void) async throws {
        let handle = handle
        try await blocking {
            try handle.synchronize()
            try handle.close()
        }
    }

    func abandon() {
        try? handle.close()
        try? FileManager.default.removeItem(at: temporary)
    }
}

/// Chunks in the database under an upload id, each inserted (outside any write lock) once it is full.
private final class DatabaseSink: StagingSink, @unchecked Sendable {
    let pool: PostgresPool
    let id: String
    /// Touched by one upload's task at a time.
    private var buffer: [UInt8] = []
    private var sequence: Int64 = 0

    private init(pool: PostgresPool, id: String) {
        self.pool = pool
        self.id = id
    }

    static func open(
        _ pool: PostgresPool, at now: Date, blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void
    ) async throws -> DatabaseSink {
        let id = UUID().uuidString.lowercased()
        try await blocking {
            _ = try pool.withConnection { session in
                try session.execute(
                    "INSERT INTO blob_upload (content_id, created_at) VALUES (?, ?)", [id.databaseValue, now.databaseValue])
            }
        }
        return DatabaseSink(pool: pool, id: id)
    }

    var staging: StagedBlob.Staging { .upload(id) }

    func write(_ chunk: ArraySlice<UInt8>, blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void)
        async throws
    {
        var rest = chunk
        while !rest.isEmpty {
            let room = BlobStore.chunkSize - buffer.count
            buffer += rest.prefix(room)
            rest = rest.dropFirst(room)
            if buffer.count == BlobStore.chunkSize { try await flush(blocking: blocking) }
        }
    }

    func finish(blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void) async throws {
        if !buffer.isEmpty { try await flush(blocking: blocking) }
    }

    private func flush(blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void) async throws {
        let (pool, id, bytes, sequence) = (pool, id, Data(buffer), sequence)
        buffer.removeAll(keepingCapacity: true)
        self.sequence += 1
        try await blocking {
            _ = try pool.withConnection { session in
                try session.execute(
                    "INSERT INTO blob_chunk (content_id, seq, bytes) VALUES (?, ?, ?)",
                    [id.databaseValue, sequence.databaseValue, bytes.databaseValue])
            }
        }
    }

    func abandon() {
        // Not under the write lock: nothing else refers to an upload nobody recorded.
        _ = try? pool.withConnection { session in
            _ = try session.execute("DELETE FROM blob_chunk WHERE content_id = ?", [id.databaseValue])
            _ = try session.execute("DELETE FROM blob_upload WHERE content_id = ?", [id.databaseValue])
        }
    }
}

/// The bytes of a range of a blob, as a sequence of pieces read when asked for.
public struct BlobContents: AsyncSequence, Sendable {
    public typealias Element = ArraySlice<UInt8>

    enum Source: @unchecked Sendable {
        case file(FileHandle)
        case database(PostgresPool, contentID: String)
    }

    let source: Source
    let range: Range<Int>
    let blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: Source
        var position: Int
        let end: Int
        let blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void

        public mutating func next() async throws -> ArraySlice<UInt8>? {
            guard position < end else {
                if case .file(let handle) = source { try? handle.close() }
                return nil
            }
            let piece = Locked<Data?>(nil)
            let (position, end, source) = (position, end, source)
            switch source {
            case .file(let handle):
                let count = Swift.min(end - position, 1 << 16)
                try await blocking { piece.value = try handle.read(upToCount: count) }
            case .database(let pool, let contentID):
                let chunk = position / BlobStore.chunkSize
                let offset = position - chunk * BlobStore.chunkSize
                try await blocking {
                    let bytes: Data? = try pool.withConnection { session in
                        try session.rows(
                            "SELECT bytes FROM blob_chunk WHERE content_id = ? AND seq = ?",
                            [contentID.databaseValue, Int64(chunk).databaseValue]
                        ).first?["bytes"]
                    }
                    guard let bytes, offset < bytes.count else { return }
                    piece.value = bytes.subdata(in: offset..<Swift.min(bytes.count, offset + (end - position)))
                }
            }
            guard let data = piece.value, !data.isEmpty else {
                if case .file(let handle) = source { try? handle.close() }
                // Shorter than recorded: end the response in error rather than leave the client waiting for bytes.
                throw BlobError.missing
            }
            self.position += data.count
            return ArraySlice(data)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source, position: range.lowerBound, end: range.upperBound, blocking: blocking)
    }
}

/// A value handed from a blocking closure back to its caller.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// A received file waiting for the transaction that records it: the transaction commits it, `discard` drops a
/// staged file that was not. A refused upload so leaves nothing behind.
public struct StagedBlob: Sendable {
    enum Staging: Sendable, Hashable {
        case none
        case file(URL)
        case upload(String)
    }

    public let stored: StoredBlob
    let staging: Staging

    init(stored: StoredBlob, staging: Staging) {
        self.stored = stored
        self.staging = staging
    }

    /// A blob already under its digest.
    public init(committed stored: StoredBlob) { self.init(stored: stored, staging: .none) }

    /// Drops a staged file not recorded (a committed one is gone already); database uploads are dropped by the
    /// refusing transaction's caller, or swept.
    public func discard() {
        if case .file(let temporary) = staging { try? FileManager.default.removeItem(at: temporary) }
    }
}

extension BlobStore {
    /// Stages bytes already in memory (tests).
    public func stage(bytes: [UInt8], limit: Int = .max, fileName: String, expectedSHA256: String? = nil) async throws -> StagedBlob {
        try await stage(OneChunk(bytes: bytes[...]), limit: limit, fileName: fileName, expectedSHA256: expectedSHA256)
    }

    /// Stores bytes already in memory (generated files, tests).
    public func store(bytes: [UInt8], limit: Int = .max, fileName: String) async throws -> StoredBlob {
        try await store(OneChunk(bytes: bytes[...]), limit: limit, fileName: fileName)
    }
}

/// A sequence of one chunk.
struct OneChunk: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let bytes: ArraySlice<UInt8>

    struct AsyncIterator: AsyncIteratorProtocol {
        var bytes: ArraySlice<UInt8>?
        mutating func next() async -> ArraySlice<UInt8>? {
            defer { bytes = nil }
            return bytes
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes) }
}
