import CCurl
import Foundation

/// Where messages go: an SMTP server, or a folder (the demo, when no SMTP server is set).
public protocol MailTransport: Sendable {
    func send(_ message: MailMessage) async throws
    /// Where messages go, for the log (no password).
    var display: String { get }
}

/// An SMTP server as `SMTP_URL` names it: `smtp://user:password@host:port` (STARTTLS when the server offers it; port
/// 587 by default) or `smtps://…` (TLS from the first byte; port 465 by default). The password may be percent-encoded.
public struct SMTPServer: MailTransport {
    let url: String
    let username: String?
    let password: String?
    /// A CA bundle for a server whose certificate is not signed by the system's authorities (`SMTP_CA_FILE`).
    let caFile: String?
    public let display: String

    public init(url text: String, caFile: String? = nil) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["smtp", "smtps"].contains(scheme),
            let host = components.host, !host.isEmpty, components.path.isEmpty || components.path == "/"
        else {
            throw MailError.badSettings("SMTP_URL must be smtp://user:password@host:port or smtps://…, not \(Self.masked(text))")
        }
        // Credentials percent-encoded as URLs require (a stray % is a typo, not a password).
        guard components.percentEncodedUser?.removingPercentEncoding != nil || components.percentEncodedUser == nil,
            components.percentEncodedPassword?.removingPercentEncoding != nil || components.percentEncodedPassword == nil
        else { throw MailError.badSettings("SMTP_URL: the user or password is not percent-encoded correctly (write % as %25)") }
        let port = components.port ?? (scheme == "smtps" ? 465 : 587)
        guard (1...65535).contains(port) else { throw MailError.badSettings("SMTP_URL: the port must be 1 to 65535") }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        url = "\(scheme)://\(bracketed):\(port)"
        username = components.user
        password = components.password
        self.caFile = caFile
        display = "\(scheme)://\(username.map { "\($0)@" } ?? "")\(bracketed):\(port)"
    }

    static func masked(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let colon = text[..<at].lastIndex(of: ":"), text[..<colon].contains("//") else {
            return text
        }
        return text[...colon] + "***" + text[at...]
    }

    public func send(_ message: MailMessage) async throws {
        let bytes = message.encoded()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            SMTPServer.queue.async {
                continuation.resume(with: Result { try self.sendBlocking(bytes, from: message.from, to: message.to) })
            }
        }
    }

    /// Sends run one at a time, off the threads that serve requests (libcurl's calls block).
    static let queue = DispatchQueue(label: "mdp.smtp")

    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    private func sendBlocking(_ bytes: [UInt8], from: MailAddress, to: MailAddress) throws {
        _ = Self.initialised
        guard let handle = curl_easy_init() else { throw MailError.notSent("libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        let upload = Upload(bytes)
        let opaque = Unmanaged.passUnretained(upload).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let recipients = curl_slist_append(nil, "<\(to.email)>")
        defer { curl_slist_free_all(recipients) }
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            mdp_curl_setopt_string(handle, CURLOPT_URL, url)
            mdp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            mdp_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            // STARTTLS when the server offers it (CURLUSESSL_TRY); with a login, required (CURLUSESSL_ALL): a password is
            // never sent in clear to a server that does not offer STARTTLS. smtps:// is TLS from the start anyway.
            mdp_curl_setopt_long(handle, CURLOPT_USE_SSL, username == nil && password == nil ? 1 : 3)
            if let username { mdp_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
            if let password { mdp_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
            if let caFile { mdp_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
            mdp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
            mdp_curl_setopt_long(handle, CURLOPT_TIMEOUT, 60)
            mdp_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from.email)>")
            mdp_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients))
            mdp_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            mdp_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(bytes.count))
            mdp_curl_setopt_callback(
                handle, CURLOPT_READFUNCTION,
                { buffer, size, count, userdata in
                    Unmanaged<Upload>.fromOpaque(userdata!).takeUnretainedValue().read(into: buffer, size * count)
                })
            mdp_curl_setopt_pointer(handle, CURLOPT_READDATA, opaque)
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let said = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            // A permanent refusal of the recipient's address (5xx to RCPT TO): sending again would not change it. Any
            // other failure (the server away, a login refused, a 4xx) is tried again.
            var reply = 0
            mdp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &reply)
            if (500..<600).contains(reply) && said.contains("RCPT") { throw MailError.rejected("\(to.email): \(said)") }
            throw MailError.notSent(said)
        }
    }

    /// The message's bytes, handed to libcurl as it asks for them.
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func read(into buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int {
            guard let buffer else { return 0 }
            let count = min(capacity, bytes.count - offset)
            guard count > 0 else { return 0 }
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
            }
            offset += count
            return count
        }
    }
}

/// Messages written as `.eml` files into a folder (the demo without an SMTP server): each written to a temporary name,
/// then renamed, so a reader never sees half a message.
public struct MailFolder: MailTransport {
    public let folder: URL
    public var display: String { folder.path }

    public init(_ folder: URL) { self.folder = folder }

    public func send(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: message.date).replacingOccurrences(of: ":", with: "")
        let safe = String(
            message.messageID.unicodeScalars.filter {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".")
            }.prefix(120).map(Character.init))
        let target = folder.appendingPathComponent("\(stamp)-\(safe).eml")
        let temporary = folder.appendingPathComponent(".\(UUID().uuidString).tmp")
        try Data(message.encoded()).write(to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw MailError.notSent("cannot write \(target.path) (errno \(errno))")
        }
    }
}
