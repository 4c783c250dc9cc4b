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
            source: input.query.source?.rawValue, declaredSHA256: input.headers.xContentSHA256, account: account)
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func uploadMissionDocument(_ input: Operations.UploadMissionDocument.Input) async throws -> Operations.UploadMissionDocument.Output {
        let account = try RequestInfo.account()
        guard case .binary(let body) = input.body else { throw APIProblem.unsupportedBody }
        let record = try await upload(
            body, laureateID: nil, missionID: input.path.missionId, kind: input.query.kind.rawValue, fileName: input.query.fileName,
            source: input.query.source?.rawValue, declaredSHA256: input.headers.xContentSHA256, account: account)
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    /// Checks the right to add before reading a byte, streams the body to the blob store, then records the document.
    func upload(
        _ body: HTTPBody, laureateID: String?, missionID: String?, kind: String, fileName: String, source: String?,
        declaredSHA256: String?, account: Account
    ) async throws -> DocumentRecord {
        let kind = DocumentKind(rawValue: kind) ?? .other
        let source = DocumentSource(rawValue: source ?? "api") ?? .api
        let place = try await storage {
            try database.checkDocumentUpload(laureateID: laureateID, missionID: missionID, kind: kind, source: source, by: account)
        }
        let blob = try await stageBlob(body, fileName: fileName, declaredSHA256: declaredSHA256)
        defer { blob.discard() }
        return try await storage {
            try database.addDocument(
                laureateID: place.laureateID, missionID: place.missionID, kind: kind, fileName: fileName, blob: blob, source: source,
                by: account)
        }
    }

    /// Streams the body to a staged file; the transaction that records the document puts it in place. A declared
    /// digest (`X-Content-SHA256`) must be that of the bytes received.
    func stageBlob(_ body: HTTPBody, fileName: String, declaredSHA256: String?) async throws -> StagedBlob {
        do {
            return try await database.blobs.stage(body, limit: maxDocumentBytes, fileName: fileName, expectedSHA256: declaredSHA256) {
                work in
                try await BlockingPool.shared.run(work)
            }
        } catch BlobError.tooLarge(let limit) {
            throw APIProblem(.contentTooLarge, code: "payload_too_large", title: "The file is larger than \(limit) bytes")
        } catch BlobError.unsupportedType {
            throw APIProblem(
                .unsupportedMediaType, code: "unsupported_type",
                title: "Accepted files are PDF, OpenDocument, Office Open XML, PNG, JPEG, CSV and plain text")
        } catch BlobError.empty {
            throw APIProblem(.unprocessableContent, code: "empty_file", title: "The file is empty")
        } catch BlobError.digestMismatch {
            throw APIProblem(
                .unprocessableContent, code: "digest_mismatch", title: "The file received is not the one declared",
                errors: [FieldError("/X-Content-SHA256", "digest_mismatch", "The SHA-256 of the bytes received differs from this one.")])
        }
    }

    func uploadDocumentVersion(_ input: Operations.UploadDocumentVersion.Input) async throws -> Operations.UploadDocumentVersion.Output {
        let account = try RequestInfo.account()
        guard case .binary(let body) = input.body else { throw APIProblem.unsupportedBody }
        let source = DocumentSource(rawValue: input.query.source?.rawValue ?? "api") ?? .api
        _ = try await storage { try database.document(id: input.path.documentId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let conflict = input.query.conflict ?? false
        let current = try await storage {
            try database.checkNewVersion(
                documentID: input.path.documentId, source: source, conflict: conflict, by: account, ifRevision: expected)
        }
        let blob = try await stageBlob(
            body, fileName: input.query.fileName ?? current.fileName, declaredSHA256: input.headers.xContentSHA256)
        defer { blob.discard() }
        let record = try await storage {
            try database.addVersion(
                documentID: input.path.documentId, fileName: input.query.fileName, blob: blob, source: source,
                conflict: conflict, by: account, ifRevision: expected)
        }
        return .created(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func listDocuments(_ input: Operations.ListDocuments.Input) async throws -> Operations.ListDocuments.Output {
        let account = try RequestInfo.account()
        let limit = try pageLimit(input.query.limit)
        let after = try deltaPosition(updatedAfter: input.query.updatedAfter, cursor: input.query.cursor)
        let page = try await storage { try database.documents(for: account, updatedAfter: after, limit: limit) }
        return .ok(
            .init(
                body: .json(
                    .init(items: page.documents.map(Components.Schemas.Document.init), nextCursor: String(page.cursor), hasMore: page.more))
            ))
    }

    func getDocument(_ input: Operations.GetDocument.Input) async throws -> Operations.GetDocument.Output {
        let account = try RequestInfo.account()
        let record = try await storage { try database.document(id: input.path.documentId, for: account) }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func withdrawDocument(_ input: Operations.WithdrawDocument.Input) async throws -> Operations.WithdrawDocument.Output {
        let account = try RequestInfo.account()
        _ = try await storage { try database.document(id: input.path.documentId, for: account) }
        let expected = try RevisionTag.expected(ifMatch: input.headers.ifMatch)
        let record = try await storage { try database.withdrawDocument(id: input.path.documentId, by: account, ifRevision: expected) }
        return .ok(.init(headers: .init(eTag: RevisionTag.etag(record.revision)), body: .json(.init(record))))
    }

    func downloadDocument(_ input: Operations.DownloadDocument.Input) async throws -> Operations.DownloadDocument.Output {
        let account = try RequestInfo.account()
        if let version = input.query.version, version < 1 {
            throw APIProblem.badParameter("version", "out_of_range", "Versions are numbered from 1.")
        }
        let content = try await storage {
            try database.documentContent(id: input.path.documentId, version: input.query.version, for: account)
        }
        let etag = "\"\(content.sha256)\""
        let disposition = Self.contentDisposition(content.fileName)
        if let ifNoneMatch = input.headers.ifNoneMatch, EntityTag.matches(ifNoneMatch: ifNoneMatch, etag: etag) {
            return .notModified(.init(headers: .init(eTag: etag)))
        }
        func chunks(_ range: Range<Int>) async throws -> BlobContents {
            do {
                return try await database.blobs.contents(of: content.sha256, range: range) { work in try await BlockingPool.shared.run(work)
                }
            } catch {
                // The row exists but its file does not: a server fault, said at once rather than a response left hanging.
                throw APIProblem(
                    .internalServerError, code: "content_missing", title: "The file of this document is missing on the server",
                    detail: "The programme team has been told by the server's log.")
            }
        }
        if let header = input.headers.range {
            switch ByteRange.parse(header, size: content.size) {
            case .range(let range):
                let body = HTTPBody(try await chunks(range), length: .known(Int64(range.count)), iterationBehavior: .single)
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
        let body = HTTPBody(try await chunks(0..<content.size), length: .known(Int64(content.size)), iterationBehavior: .single)
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
        // Digits only (no sign, no spaces inside); a number too large for Int is still a valid position past the end.
        func position(_ text: String) -> Int?? {
            guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return .some(Int(text))
        }
        guard size >= 0 else { return .ignored }
        if first.isEmpty {
            guard let suffix = position(last) else { return .ignored }
            // A suffix longer than the file (or than Int) means the whole file (RFC 9110 §14.1.2).
            guard size > 0, suffix != 0 else { return .unsatisfiable }
            return .range(size - min(suffix ?? size, size)..<size)
        }
        guard let start = position(first) else { return .ignored }
        guard let start, start < size else { return .unsatisfiable }
        if last.isEmpty { return .range(start..<size) }
        guard let end = position(last) else { return .ignored }
        // An end past the last byte (or past Int) is clamped to it; comparing before adding one cannot overflow.
        let lastByte = min(end ?? (size - 1), size - 1)
        guard lastByte >= start else { return .ignored }
        return .range(start..<lastByte + 1)
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

extension APIHandler {
    func listDossierDocuments(_ input: Operations.ListDossierDocuments.Input) async throws -> Operations.ListDossierDocuments.Output {
        let page = try await files(
            laureateID: input.path.laureateId, missionID: nil, kind: input.query.kind, limit: input.query.limit, cursor: input.query.cursor)
        return .ok(.init(body: .json(page)))
    }

    func listMissionDocuments(_ input: Operations.ListMissionDocuments.Input) async throws -> Operations.ListMissionDocuments.Output {
        let page = try await files(
            laureateID: nil, missionID: input.path.missionId, kind: input.query.kind, limit: input.query.limit, cursor: input.query.cursor)
        return .ok(.init(body: .json(page)))
    }

    private func files(
        laureateID: String?, missionID: String?, kind: Components.Schemas.DocumentKind?, limit: Int?, cursor: String?
    ) async throws -> Components.Schemas.DocumentPage {
        let account = try RequestInfo.account()
        let limit = try pageLimit(limit)
        let position = try PageCursor.decode(cursor, as: FilePosition.self)
        let kind = kind.flatMap { DocumentKind(rawValue: $0.rawValue) }
        let page = try await storage {
            try database.files(laureateID: laureateID, missionID: missionID, kind: kind, after: position, limit: limit, for: account)
        }
        // Where the next page starts, also on the last page: a client always has one to pass back.
        let last =
            page.documents.last.map { FilePosition(kind: $0.kind.rawValue, fileName: $0.fileName, id: $0.id) } ?? position
            ?? FilePosition(kind: "", fileName: "", id: "")
        return .init(
            items: page.documents.map(Components.Schemas.Document.init), nextCursor: PageCursor.encode(last), hasMore: page.more)
    }
}
