import Foundation

/// What a webhook subscription may point at.
public enum WebhookRules {
    /// An http(s) URL a request can be sent to as written: printable ASCII only (no spaces, line breaks or non-ASCII:
    /// percent-encode a path, punycode a host), a host, a port of 1 to 65535 if any, no credentials, no fragment, at
    /// most 2000 characters.
    public static func isDeliverable(url: String) -> Bool {
        guard (1...2_000).contains(url.utf8.count), url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = parts.host, !host.isEmpty, parts.user == nil, parts.password == nil, parts.fragment == nil
        else { return false }
        if let port = parts.port, !(1...65_535).contains(port) { return false }
        return true
    }
}
