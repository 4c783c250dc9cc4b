import Crypto
import Domain
import Foundation

/// A file stored by its SHA-256: written to a temporary file while it is hashed, measured and sniffed, synced to disk,
/// then renamed into place. A crash leaves at worst a temporary file, never a half-written blob under a real name.
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

    /// Streams `chunks` to disk; memory holds one chunk and the first bytes used to recognise the type.
    public func store<Chunks: AsyncSequence>(_ chunks: Chunks, limit: Int, fileName: String) async throws -> StoredBlob
    where Chunks.Element == ArraySlice<UInt8> {
        let temporary = root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: temporary) } }
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
                try handle.write(contentsOf: chunk)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        guard size > 0 else { throw BlobError.empty }
        guard let type = DocumentType.sniff(head, fileName: fileName) else { throw BlobError.unsupportedType }
        let sha256 = Hex.string(hasher.finalize())
        let destination = url(of: sha256)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: destination.path) {
            // Same bytes already stored: the temporary copy is dropped by `defer`.
        } else {
            guard rename(temporary.path, destination.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
            keep = true
        }
        return StoredBlob(sha256: sha256, size: size, type: type)
    }
}

extension BlobStore {
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
