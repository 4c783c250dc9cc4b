import Foundation

/// An e-mail address with the name shown beside it.
public struct MailAddress: Sendable, Hashable {
    public let name: String
    public let email: String

    /// Refuses an address that could break the message's header (line breaks, brackets, spaces, non-ASCII).
    public init(name: String = "", email: String) throws {
        let allowed = email.unicodeScalars.allSatisfy {
            $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\"\\".unicodeScalars.contains($0)
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard allowed, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.utf8.count <= 254 else {
            throw MailError.badAddress(email)
        }
        self.name = name
        self.email = email
    }

    /// `"Name" <email>` as a header carries it, the name encoded when it is not plain ASCII.
    var header: String {
        let cleaned = MailMessage.oneLine(name)
        guard !cleaned.isEmpty else { return "<\(email)>" }
        return "\(MailMessage.encodedWords(cleaned, quoting: true)) <\(email)>"
    }
}

/// What went wrong sending a message.
public enum MailError: Error, CustomStringConvertible, Sendable {
    case badAddress(String)
    case badSettings(String)
    /// The server refused or could not be reached; `detail` is what it said. Tried again later.
    case notSent(String)
    /// The server refused this recipient for good (a 5xx answer to its address): not tried again.
    case rejected(String)

    public var description: String {
        switch self {
        case .badAddress(let address): "not an e-mail address: \(address.prefix(100))"
        case .badSettings(let detail): detail
        case .notSent(let detail): detail
        case .rejected(let detail): "refused for good: \(detail)"
        }
    }
}

/// One e-mail, plain text and HTML (multipart/alternative), as RFC 5322 and RFC 2045–2047 write it: headers in ASCII
/// (names and subject as UTF-8 encoded words), bodies in base64, lines of at most 76 characters.
public struct MailMessage: Sendable, Hashable {
    /// Stable across attempts: a receiver that gets a message twice (delivery is at least once) can tell.
    public let messageID: String
    public let from: MailAddress
    public let to: MailAddress
    public let subject: String
    public let text: String
    public let html: String
    public let date: Date

    public init(messageID: String, from: MailAddress, to: MailAddress, subject: String, text: String, html: String, date: Date) {
        self.messageID = messageID
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.date = date
    }

    /// The message as sent, lines ending in CRLF.
    public func encoded() -> [UInt8] {
        let boundary =
            "mdp-alt-"
            + String(
                messageID.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.prefix(40).map(Character.init))
        var lines = [
            "Message-ID: <\(Self.oneLine(messageID))>",
            "Date: \(Self.rfc5322Date(date))",
            "From: \(from.header)",
            "To: \(to.header)",
            "Subject: \(Self.encodedWords(Self.oneLine(subject), quoting: false))",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        lines += Self.base64Lines(text)
        lines += ["", "--\(boundary)", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", ""]
        lines += Self.base64Lines(html)
        lines += ["", "--\(boundary)--", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// A header value on one line: line breaks and other controls become spaces (no header can be injected).
    static func oneLine(_ text: String) -> String {
        let spaced = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return spaced.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Plain printable ASCII stays as it is (quoted when it is a display name with specials); anything else becomes
    /// RFC 2047 `=?utf-8?B?…?=` words of at most 75 characters, never splitting a character, folded onto new lines.
    static func encodedWords(_ text: String, quoting: Bool) -> String {
        // Text that looks like an encoded word is encoded too: a reader must show it as written, not decode it.
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F } && !text.contains("=?")
        if plain && text.count <= 70 {
            if quoting && text.unicodeScalars.contains(where: { "()<>[]:;@\\,.\"".unicodeScalars.contains($0) }) {
                return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }
            return text
        }
        var words: [[UInt8]] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39 {
                words.append(chunk)
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?utf-8?B?\(Data($0).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    static func base64Lines(_ text: String) -> [String] {
        let encoded = Data(text.utf8).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
