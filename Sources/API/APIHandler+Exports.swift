import Domain
import Foundation
import OpenAPIRuntime
import Storage
import ZIPFoundation

extension APIHandler {
    /// Rows per page read from the database while a report is sent.
    static let reportPageSize = 200

    func exportReport(_ input: Operations.ExportReport.Input) async throws -> Operations.ExportReport.Output {
        let account = try RequestInfo.account(in: [.admin])
        guard let dataset = ReportDataset(rawValue: input.path.dataset.rawValue) else { throw APIProblem.notFound("No such report.") }
        let (period, errors) = ReportPeriod.parse(since: input.query.since, until: input.query.until)
        guard errors.isEmpty else {
            throw APIProblem(.badRequest, code: "invalid_parameter", title: "Some parameters are invalid", errors: errors)
        }
        let stem = "\(dataset.title)-\(Spreadsheet.parisDay(database.now).iso)"
        let database = self.database
        let page: @Sendable (String?) async throws -> ReportPage = { after in
            try await storage { try database.reportPage(dataset, after: after, limit: Self.reportPageSize, period: period, for: account) }
        }
        // The first page is read before answering, so a refusal is still a clean problem document.
        let first = try await page(nil)
        switch input.query.format ?? .csv {
        case .csv:
            let head = FrenchCSV.byteOrderMark + Array(FrenchCSV.header(dataset.headers).utf8)
            let body = PagedBytes(head: head, first: first) { after in
                let next = try await page(after)
                return (Array(next.rows.map(FrenchCSV.line).joined().utf8), next)
            } encode: {
                Array($0.rows.map(FrenchCSV.line).joined().utf8)
            }
            return .ok(
                .init(
                    headers: .init(contentDisposition: Self.contentDisposition(stem + ".csv")),
                    body: .csv(HTTPBody(body, length: .unknown, iterationBehavior: .single))))
        case .ods:
            let file = try await storage {
                try OpenDocumentFile.build(
                    dataset, first: first,
                    page: { after in
                        try database.reportPage(dataset, after: after, limit: Self.reportPageSize, period: period, for: account)
                    })
            }
            return .ok(
                .init(
                    headers: .init(contentDisposition: Self.contentDisposition(stem + ".ods")),
                    body: .applicationVnd_oasis_opendocument_spreadsheet(
                        HTTPBody(FileChunks(file: file), length: .known(Int64(clamping: file.size)), iterationBehavior: .single))))
        }
    }
}

/// A report's bytes as they are read: its head, then each page encoded, one database read per chunk sent (the client's
/// pace drives the reads).
struct PagedBytes: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let head: [UInt8]
    let first: ReportPage
    let next: @Sendable (String) async throws -> ([UInt8], ReportPage)
    let encode: @Sendable (ReportPage) -> [UInt8]

    init(
        head: [UInt8], first: ReportPage, next: @escaping @Sendable (String) async throws -> ([UInt8], ReportPage),
        encode: @escaping @Sendable (ReportPage) -> [UInt8]
    ) {
        self.head = head
        self.first = first
        self.next = next
        self.encode = encode
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let source: PagedBytes
        var sentHead = false
        var after: String?
        var done = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            if !sentHead {
                sentHead = true
                after = source.first.next
                done = source.first.next == nil
                return ArraySlice(source.head + source.encode(source.first))
            }
            while !done, let position = after {
                let (bytes, page) = try await source.next(position)
                after = page.next
                done = page.next == nil
                if !bytes.isEmpty { return ArraySlice(bytes) }
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: self) }
}

/// An OpenDocument spreadsheet built in a private temporary folder (rows streamed into `content.xml`, then zipped by
/// ZIPFoundation), opened, and unlinked at once: it lives only as long as the open file it is sent from.
final class OpenDocumentFile: @unchecked Sendable {
    let handle: FileHandle
    let size: UInt64

    private init(handle: FileHandle, size: UInt64) {
        self.handle = handle
        self.size = size
    }

    deinit { try? handle.close() }

    static let folderPrefix = "mdp-export-"

    /// Removes what builds cut short by a crash left in the temporary folder (an hour old: another instance on this
    /// machine may be building one now).
    static func sweepLeftovers(olderThan age: TimeInterval = 3600) -> Int {
        let temporary = FileManager.default.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        var removed = 0
        for name in names where name.hasPrefix(folderPrefix) {
            let folder = temporary.appendingPathComponent(name)
            let modified = (try? FileManager.default.attributesOfItem(atPath: folder.path)[.modificationDate] as? Date) ?? Date()
            if Date().timeIntervalSince(modified) > age, (try? FileManager.default.removeItem(at: folder)) != nil { removed += 1 }
        }
        return removed
    }

    static func build(_ dataset: ReportDataset, first: ReportPage, page: (String) throws -> ReportPage) throws -> OpenDocumentFile {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(folderPrefix + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: folder) }
        let content = folder.appendingPathComponent("content.xml")
        guard FileManager.default.createFile(atPath: content.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let writer = try FileHandle(forWritingTo: content)
        try writer.write(contentsOf: Data(OpenDocumentSheet.prologue(sheet: dataset.title, headers: dataset.headers).utf8))
        var current = first
        while true {
            try writer.write(contentsOf: Data(current.rows.map(OpenDocumentSheet.row).joined().utf8))
            guard let next = current.next else { break }
            current = try page(next)
        }
        try writer.write(contentsOf: Data(OpenDocumentSheet.epilogue.utf8))
        try writer.close()

        let packed = folder.appendingPathComponent("report.ods")
        let archive = try Archive(url: packed, accessMode: .create)
        // The media type first and stored, as OpenDocument asks, so tools recognise the file from its first bytes.
        let mimetype = Data(OpenDocumentSheet.mediaType.utf8)
        try archive.addEntry(
            with: "mimetype", type: .file, uncompressedSize: Int64(mimetype.count), compressionMethod: .none,
            provider: { position, size in mimetype.subdata(in: Int(position)..<Int(position) + size) })
        let manifest = Data(OpenDocumentSheet.manifest.utf8)
        try archive.addEntry(
            with: "META-INF/manifest.xml", type: .file, uncompressedSize: Int64(manifest.count), compressionMethod: .deflate,
            provider: { position, size in manifest.subdata(in: Int(position)..<Int(position) + size) })
        try archive.addEntry(with: "content.xml", fileURL: content, compressionMethod: .deflate)

        let handle = try FileHandle(forReadingFrom: packed)
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        return OpenDocumentFile(handle: handle, size: size)
    }
}

/// For the composition root: what ODS builds cut short by a crash left behind, removed at start.
public enum ExportLeftovers {
    public static func sweep() -> Int { OpenDocumentFile.sweepLeftovers() }
}

/// A file's bytes in 64 KiB chunks.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let file: OpenDocumentFile

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: OpenDocumentFile

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard let data = try file.handle.read(upToCount: 1 << 16), !data.isEmpty else { return nil }
            return ArraySlice(data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file) }
}
