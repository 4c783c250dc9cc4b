import Crypto
import Domain
import Foundation

/// A file stored by its SHA-256: written to a temporary file while it is hashed, measured and sniffed, synced to disk,
/// then renamed into place by the transaction that records it. A crash leaves at worst a temporary file (swept at the
/// next start), never a half-written blob under a real name.
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
}

/// Content-addressed files under one folder: `<root>/<first two hex digits>/<sha256>`, temporary files in `<root>/tmp`.
public struct BlobStore: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    }

    /// Where the blob with this digest lives.
    public func url(of sha256: String) -> URL {
        root.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    /// Streams `chunks` to a temporary file, hashing, measuring and recognising it on the way; memory holds one chunk
    /// and the first bytes. Nothing is under a real name yet: the transaction that records the file commits it.
    /// `blocking` runs each file write and the final sync: a server passes its blocking pool, so no disk wait happens on
    /// Swift concurrency's threads.
    public func stage<Chunks: AsyncSequence>(
        _ chunks: Chunks, limit: Int, fileName: String,
        blocking: @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void = { try $0() }
    ) async throws -> StagedBlob
    where Chunks.Element == ArraySlice<UInt8> {
        let temporary = root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        var staged = false
        defer { if !staged { try? FileManager.default.removeItem(at: temporary) } }
        let handle = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var size = 0
        var head: [UInt8] = []
        do {
            for try await chunk in chunks {
                size += chunk.count
                guard size <= limit else { throw BlobError.tooLarge(limit: limit) }
                if head.count < DocumentType.sniffLength { head += chunk.prefix(DocumentType.sniffLength - head.count) }
                hasher.update(data: chunk)
                try await blocking { try handle.write(contentsOf: chunk) }
            }
            try await blocking {
                try handle.synchronize()
                try handle.close()
            }
        } catch {
            try? handle.close()
            throw error
        }
        guard size > 0 else { throw BlobError.empty }
        guard let type = DocumentType.sniff(head, fileName: fileName) else { throw BlobError.unsupportedType }
        staged = true
        return StagedBlob(stored: StoredBlob(sha256: Hex.string(hasher.finalize()), size: size, type: type), temporary: temporary)
    }

    /// Puts a staged file under its digest (the same bytes already there are kept), the last step of the transaction
    /// that records it. Called again for the same file, it does nothing.
    public func commit(_ staged: StagedBlob) throws {
        guard let temporary = staged.temporary, FileManager.default.fileExists(atPath: temporary.path) else { return }
        let destination = url(of: staged.stored.sha256)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: destination.path) {
            try FileManager.default.removeItem(at: temporary)
        } else if rename(temporary.path, destination.path) != 0 {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// Stages and commits at once (generated files, tests: nothing can refuse them in between).
    public func store<Chunks: AsyncSequence>(_ chunks: Chunks, limit: Int, fileName: String) async throws -> StoredBlob
    where Chunks.Element == ArraySlice<UInt8> {
        let staged = try await stage(chunks, limit: limit, fileName: fileName)
        defer { staged.discard() }
        try commit(staged)
        return staged.stored
    }

    /// Removes what no document version refers to: files of uploads refused or interrupted after they were stored,
    /// and temporary files. Run before the server takes requests (an upload in flight would look unreferenced).
    public func sweep(keeping referenced: Set<String>) throws -> Int {
        var removed = 0
        let manager = FileManager.default
        for folder in try manager.contentsOfDirectory(atPath: root.path) {
            let path = root.appendingPathComponent(folder)
            for name in (try? manager.contentsOfDirectory(atPath: path.path)) ?? [] where folder == "tmp" || !referenced.contains(name) {
                try manager.removeItem(at: path.appendingPathComponent(name))
                removed += 1
            }
        }
        return removed
    }
}

/// A received file waiting for the transaction that records it: `BlobStore.commit` puts it in place, `discard` drops
/// it if it was not. A refused upload so leaves nothing behind.
public struct StagedBlob: Sendable {
    public let stored: StoredBlob
    /// Nil once the file is known to be in place.
    let temporary: URL?

    init(stored: StoredBlob, temporary: URL?) {
        self.stored = stored
        self.temporary = temporary
    }

    /// A file already under its digest.
    public init(committed stored: StoredBlob) { self.init(stored: stored, temporary: nil) }

    public func discard() {
        if let temporary { try? FileManager.default.removeItem(at: temporary) }
    }
}

extension BlobStore {
    /// Stages bytes already in memory (tests).
    public func stage(bytes: [UInt8], fileName: String) async throws -> StagedBlob {
        try await stage(OneChunk(bytes: bytes[...]), limit: .max, fileName: fileName)
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
