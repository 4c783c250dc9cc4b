import Domain
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Storage

extension APIHandler {
    func uploadDossierDocument(_ input: Operations.UploadDossierDocument.Input) async throws -> Operations.UploadDossierDocument.Output {
        let account = try RequestInfo.account()
        guard case .binary(let body) = input.body else { throw APIProblem.unsupportedBody }
        let record = try await upload(
            body, laureateID: input.path.laureateId, missionID: nil, kind: input.query.kind.rawValue, fileName: input.query.fileName,
            source: input.query.source?.rawValue, account: account)
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func uploadMissionDocument(_ input: Operations.UploadMissionDocument.Input) async throws -> Operations.UploadMissionDocument.Output {
        let account = try RequestInfo.account()
        guard case .binary(let body) = input.body else { throw APIProblem.unsupportedBody }
        let record = try await upload(
            body, laureateID: nil, missionID: input.path.missionId, kind: input.query.kind.rawValue, fileName: input.query.fileName,
            source: input.query.source?.rawValue, account: account)
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    /// Checks the right to add before reading a byte, streams the body to the blob store, then records the document.
    func upload(
        _ body: HTTPBody, laureateID: String?, missionID: String?, kind: String, fileName: String, source: String?, account: Account
    ) async throws -> DocumentRecord {
        let kind = DocumentKind(rawValue: kind) ?? .other
        let source = DocumentSource(rawValue: source ?? "api") ?? .api
        let place = try storage {
            try database.checkDocumentUpload(laureateID: laureateID, missionID: missionID, kind: kind, source: source, by: account)
        }
        let blob = try await stageBlob(body, fileName: fileName)
        defer { blob.discard() }
        return try storage {
            try database.addDocument(
                laureateID: place.laureateID, missionID: place.missionID, kind: kind, fileName: fileName, blob: blob, source: source,
                by: account)
        }
    }

    /// Streams the body to a staged file; the transaction that records the document puts it in place.
    func stageBlob(_ body: HTTPBody, fileName: String) async throws -> StagedBlob {
        do {
            return try await database.blobs.stage(body, limit: maxDocumentBytes, fileName: fileName)
        } catch BlobError.tooLarge(let limit) {
            throw APIProblem(.contentTooLarge, code: "payload_too_large", title: "The file is larger than \(limit) bytes")
        } catch BlobError.unsupportedType {
            throw APIProblem(
                .unsupportedMediaType, code: "unsupported_type",
                title: "Accepted files are PDF, OpenDocument, Office Open XML, PNG, JPEG, CSV and plain text")
        } catch BlobError.empty {
            throw APIProblem(.unprocessableContent, code: "empty_file", title: "The file is empty")
        }
    }

    func uploadDocumentVersion(_ input: Operations.UploadDocumentVersion.Input) async throws -> Operations.UploadDocumentVersion.Output {
        let account = try RequestInfo.account()
        guard case .binary(let body) = input.body else { throw APIProblem.unsupportedBody }
        let source = DocumentSource(rawValue: input.query.source?.rawValue ?? "api") ?? .api
        _ = try storage { try database.document(id: input.path.documentId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let conflict = input.query.conflict ?? false
        let current = try storage {
            try database.checkNewVersion(
                documentID: input.path.documentId, source: source, conflict: conflict, by: account, ifRevision: expected)
        }
        let blob = try await stageBlob(body, fileName: input.query.fileName ?? current.fileName)
        defer { blob.discard() }
        let record = try storage {
            try database.addVersion(
                documentID: input.path.documentId, fileName: input.query.fileName, blob: blob, source: source,
                conflict: conflict, by: account, ifRevision: expected)
        }
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func listDocuments(_ input: Operations.ListDocuments.Input) async throws -> Operations.ListDocuments.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let after = input.query.updatedAfter ?? 0
        guard after >= 0 else { throw APIProblem.badParameter("updated_after", "out_of_range", "A revision is zero or more.") }
        let page = try storage { try database.documents(for: account, updatedAfter: after, limit: limit) }
        return .ok(
            .init(
                body: .json(
                    .init(items: page.documents.map(Components.Schemas.Document.init), nextCursor: String(page.cursor), hasMore: page.more))
            ))
    }

    func getDocument(_ input: Operations.GetDocument.Input) async throws -> Operations.GetDocument.Output {
        let account = try RequestInfo.account()
        let record = try storage { try database.document(id: input.path.documentId, for: account) }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func withdrawDocument(_ input: Operations.WithdrawDocument.Input) async throws -> Operations.WithdrawDocument.Output {
        let account = try RequestInfo.account()
        _ = try storage { try database.document(id: input.path.documentId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let record = try storage { try database.withdrawDocument(id: input.path.documentId, by: account, ifRevision: expected) }
        return .ok(.init(body: .json(.init(record))))
    }

    func downloadDocument(_ input: Operations.DownloadDocument.Input) async throws -> Operations.DownloadDocument.Output {
        let account = try RequestInfo.account()
        let content = try storage { try database.documentContent(id: input.path.documentId, version: input.query.version, for: account) }
        let etag = "\"\(content.sha256)\""
        let disposition = Self.contentDisposition(content.fileName)
        if let ifNoneMatch = input.headers.ifNoneMatch, EntityTag.matches(ifNoneMatch: ifNoneMatch, etag: etag) {
            return .notModified(.init(headers: .init(eTag: etag)))
        }
        let url = database.blobs.url(of: content.sha256)
        if let header = input.headers.range {
            switch ByteRange.parse(header, size: content.size) {
            case .range(let range):
                let body = HTTPBody(FileChunks(url: url, range: range), length: .known(Int64(range.count)), iterationBehavior: .single)
                return .partialContent(
                    .init(
                        headers: .init(
                            eTag: etag, contentDisposition: disposition,
                            contentRange: "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(content.size)"),
                        body: .binary(body)))
            case .unsatisfiable:
                let problem = APIProblem(.rangeNotSatisfiable, code: "range_not_satisfiable", title: "The range lies outside the file")
                return .rangeNotSatisfiable(
                    .init(headers: .init(contentRange: "bytes */\(content.size)"), body: .applicationProblemJson(problem.schema)))
            case .ignored:
                break
            }
        }
        let body = HTTPBody(FileChunks(url: url, range: 0..<content.size), length: .known(Int64(content.size)), iterationBehavior: .single)
        return .ok(.init(headers: .init(eTag: etag, contentDisposition: disposition, acceptRanges: "bytes"), body: .binary(body)))
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 and 8187).
    static func contentDisposition(_ fileName: String) -> String {
        let ascii = String(fileName.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = fileName.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}

/// A single `bytes=` range of RFC 9110, the only kind served.
enum ByteRange: Equatable {
    case range(Range<Int>)
    case unsatisfiable
    /// Not a single bytes range: the whole file is sent.
    case ignored

    static func parse(_ header: String, size: Int) -> ByteRange {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes="), !trimmed.contains(",") else { return .ignored }
        let spec = trimmed.dropFirst(6)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .ignored }
        let first = parts[0].trimmingCharacters(in: .whitespaces)
        let last = parts[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return .ignored }
            return size == 0 ? .unsatisfiable : .range(max(0, size - suffix)..<size)
        }
        guard let start = Int(first), start >= 0 else { return .ignored }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .range(start..<size) }
        guard let end = Int(last), end >= start else { return .ignored }
        return .range(start..<min(end + 1, size))
    }
}

/// A file's bytes in 64 KiB chunks, read as they are sent: memory does not grow with the file.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let url: URL
    let range: Range<Int>

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        var remaining: Int

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard remaining > 0, let handle else {
                try? handle?.close()
                return nil
            }
            guard let data = try handle.read(upToCount: Swift.min(remaining, 1 << 16)), !data.isEmpty else {
                try? handle.close()
                return nil
            }
            remaining -= data.count
            return ArraySlice(data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let handle = try? FileHandle(forReadingFrom: url)
        try? handle?.seek(toOffset: UInt64(range.lowerBound))
        return AsyncIterator(handle: handle, remaining: range.count)
    }
}

extension Components.Schemas.Document {
    init(_ record: DocumentRecord) {
        self.init(
            id: record.id, laureateId: record.laureateID, laureateSlug: record.laureateSlug, missionId: record.missionID,
            missionRef: record.missionRef, kind: .init(rawValue: record.kind.rawValue)!, version: record.version, fileName: record.fileName,
            mediaType: record.mediaType, size: Int64(record.size), sha256: record.sha256, source: .init(rawValue: record.source) ?? .api,
            conflict: record.conflict, uploaderId: record.uploaderID, revision: record.revision, createdAt: record.createdAt,
            updatedAt: record.updatedAt, withdrawn: record.withdrawn, drivePath: record.drivePath)
    }
}
