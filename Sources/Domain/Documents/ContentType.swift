/// The file types the programme accepts, recognised from the bytes themselves: a client's `Content-Type` is not trusted.
public enum DocumentType: String, Sendable, Hashable, Codable, CaseIterable {
    case pdf, png, jpeg, csv, text
    case odt, ods, odp
    case docx, xlsx, pptx

    public var mediaType: String {
        switch self {
        case .pdf: "application/pdf"
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .csv: "text/csv; charset=utf-8"
        case .text: "text/plain; charset=utf-8"
        case .odt: "application/vnd.oasis.opendocument.text"
        case .ods: "application/vnd.oasis.opendocument.spreadsheet"
        case .odp: "application/vnd.oasis.opendocument.presentation"
        case .docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        }
    }

    /// How many leading bytes `sniff` needs at most.
    public static let sniffLength = 8192

    /// The type of a file from its first bytes (up to `sniffLength`) and, only to tell CSV from plain text, its name.
    /// Nil for anything outside the allow-list (executables, archives, HTML…).
    public static func sniff(_ head: [UInt8], fileName: String) -> DocumentType? {
        func starts(_ magic: [UInt8]) -> Bool { head.starts(with: magic) }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return zipDocument(head) }
        if isText(head) {
            return fileName.lowercased().hasSuffix(".csv") ? .csv : .text
        }
        return nil
    }

    /// OpenDocument files start with a stored `mimetype` entry naming their type; Office Open XML files carry
    /// `[Content_Types].xml` and a `word/`, `xl/` or `ppt/` part near the start. Any other archive is refused.
    static func zipDocument(_ head: [UInt8]) -> DocumentType? {
        guard head.count >= 30 else { return nil }
        let nameLength = Int(head[26]) | Int(head[27]) << 8
        let extraLength = Int(head[28]) | Int(head[29]) << 8
        if head.count >= 30 + nameLength, String(decoding: head[30..<30 + nameLength], as: UTF8.self) == "mimetype" {
            let start = 30 + nameLength + extraLength
            let mime = String(decoding: head[min(start, head.count)..<min(start + 60, head.count)], as: UTF8.self)
            if mime.hasPrefix("application/vnd.oasis.opendocument.text") { return .odt }
            if mime.hasPrefix("application/vnd.oasis.opendocument.spreadsheet") { return .ods }
            if mime.hasPrefix("application/vnd.oasis.opendocument.presentation") { return .odp }
            return nil
        }
        let text = String(decoding: head, as: UTF8.self)
        guard text.contains("[Content_Types].xml") else { return nil }
        if text.contains("word/") { return .docx }
        if text.contains("xl/") { return .xlsx }
        if text.contains("ppt/") { return .pptx }
        return nil
    }

    /// UTF-8 without NUL or other control bytes than tab, line feed, carriage return and form feed; a sequence cut by
    /// the end of the sniffed bytes is allowed.
    static func isText(_ head: [UInt8]) -> Bool {
        guard !head.isEmpty else { return true }
        var bytes = head[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if bytes.contains(where: { $0 < 0x20 && ![0x09, 0x0A, 0x0D, 0x0C].contains($0) || $0 == 0x7F }) { return false }
        // A UTF-8 sequence cut by the end of the window is at most 3 bytes long.
        return (0...min(3, bytes.count)).contains { String(validating: bytes.dropLast($0), as: UTF8.self) != nil }
    }
}
