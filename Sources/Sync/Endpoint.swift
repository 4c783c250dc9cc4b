import Foundation

/// The two URLs `mdp sync` is given (the API's and the Drive's), checked before anything is sent: http or https, a
/// host, a port in range, no query or fragment, and no credentials in the URL (they would be printed in messages and
/// remembered in the journal: the Drive's user and password file are options of their own).
public enum Endpoint {
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The URL `text` names, or why it cannot be one; `setting` names the option in the message.
    public static func parse(_ text: String, setting: String) throws -> URL {
        guard text.utf8.count <= 2048 else { throw Invalid(description: "\(setting) is longer than 2048 bytes") }
        guard let parts = URLComponents(string: text), let url = parts.url else {
            throw Invalid(description: "\(setting) is not a URL")
        }
        guard let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw Invalid(
                description: "\(setting) must be an http:// or https:// URL (not \(parts.scheme.map { "\($0):" } ?? "a relative one"))")
        }
        guard let host = parts.host, !host.isEmpty else { throw Invalid(description: "\(setting) has no host") }
        if let port = parts.port, !(1...65_535).contains(port) {
            throw Invalid(description: "\(setting): port \(port) is not between 1 and 65535")
        }
        guard parts.user == nil, parts.password == nil else {
            throw Invalid(
                description:
                    "\(setting) must not carry credentials: give the Drive's user with --webdav-user (SYNC_WEBDAV_USER) and its password in a file (--webdav-password-file)"
            )
        }
        guard parts.query == nil, parts.fragment == nil else {
            throw Invalid(description: "\(setting) must not have a query (?…) or a fragment (#…): \(display(url))")
        }
        return url
    }

    /// A URL as messages show it: scheme, host, port and path, never credentials, a query or a fragment, at most 120
    /// characters.
    public static func display(_ url: URL) -> String {
        var parts = URLComponents()
        parts.scheme = url.scheme
        parts.host = url.host
        parts.port = url.port
        parts.percentEncodedPath = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        let text = parts.string ?? "(the URL)"
        return text.count > 120 ? String(text.prefix(119)) + "…" : text
    }
}
