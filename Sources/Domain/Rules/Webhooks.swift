import Foundation

/// What a webhook subscription may point at.
public enum WebhookRules {
    /// A new signing secret, shown to the team once: `whsec_` and the base64 of 24 random bytes (Standard Webhooks).
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + Data((0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }

    /// An http(s) URL a request can be sent to as written: printable ASCII only (no spaces, line breaks or non-ASCII:
    /// percent-encode a path, punycode a host), a host, a port of 1 to 65535 if any, no credentials, no fragment, at
    /// most 2000 characters.
    public static func isDeliverable(url: String) -> Bool {
        guard (1...2_000).contains(url.utf8.count), url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = parts.host, !host.isEmpty, parts.user == nil, parts.password == nil, parts.fragment == nil
        else { return false }
        if let port = parts.port, !(1...65_535).contains(port) { return false }
        // Every % starts a valid escape; an empty port ("host:/") is no port.
        guard hasValidEscapes(url), !url.contains(host + ":/"), !url.hasSuffix(host + ":") else { return false }
        let numeric = host.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || $0 == "." }
        return numeric || host.contains(":") ? isIPAddress(host) : isHostName(host)
    }

    /// Whether every `%` is followed by two hexadecimal digits.
    static func hasValidEscapes(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() where scalar == "%" {
            guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit, scalars[index + 2].properties.isASCIIHexDigit
            else { return false }
        }
        return true
    }

    /// Letters, digits and hyphens in dot-separated labels of 1 to 63 characters, none starting or ending with a hyphen.
    static func isHostName(_ host: String) -> Bool {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return host.utf8.count <= 253 && !labels.isEmpty
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy {
                        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    }
            }
    }

    /// An IPv4 or bracketed IPv6 literal, other than link-local addresses (169.254.0.0/16, fe80::/10: where cloud
    /// metadata services answer).
    static func isIPAddress(_ host: String) -> Bool {
        if host.hasPrefix("[") && host.hasSuffix("]") || host.contains(":") {
            let inner = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
            return !inner.isEmpty && inner.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." }
                && !inner.hasPrefix("fe8") && !inner.hasPrefix("fe9") && !inner.hasPrefix("fea") && !inner.hasPrefix("feb")
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard octets.count == 4, octets.allSatisfy({ ($0 ?? -1) >= 0 && ($0 ?? 256) <= 255 }) else { return false }
        return !(octets[0] == 169 && octets[1] == 254)
    }

    /// Whether a receiver at `address` (4 or 16 bytes, network order) may be sent a webhook: an address on the public
    /// internet, or, where the installation allows private networks (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`, receivers inside
    /// its own network), any unicast address but link-local (where cloud metadata services answer). Checked on the
    /// address a connection is about to be made to, so a host name that resolves to a private address is refused too:
    /// a subscription cannot aim the server at its own machine or network.
    public static func mayDeliver(to address: [UInt8], allowPrivateNetworks: Bool) -> Bool {
        switch classify(address) {
        case .public: true
        case .private: allowPrivateNetworks
        case .linkLocal, .unusable: false
        }
    }

    enum AddressClass { case `public`, `private`, linkLocal, unusable }

    static func classify(_ address: [UInt8]) -> AddressClass {
        switch address.count {
        case 4:
            let (a, b, c) = (address[0], address[1], address[2])
            if a == 169 && b == 254 { return .linkLocal }
            if a == 0 || a >= 224 { return .unusable }
            if a == 10 || a == 127 || (a == 100 && b & 0xC0 == 64) || (a == 172 && b & 0xF0 == 16) || (a == 192 && b == 168)
                || (a == 192 && b == 0 && c == 0) || (a == 198 && b & 0xFE == 18)
            {
                return .private
            }
            return .public
        case 16:
            let head = Array(address.prefix(12))
            // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses lead to the IPv4 address they carry.
            if head == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] || head == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
                return classify(Array(address.suffix(4)))
            }
            if address[0] == 0xFE && address[1] & 0xC0 == 0x80 { return .linkLocal }
            if address[0] == 0xFF { return .unusable }
            if head.allSatisfy({ $0 == 0 }) { return address.suffix(4) == [0, 0, 0, 1] ? .private : .unusable }
            if address[0] & 0xFE == 0xFC { return .private }
            return .public
        default:
            return .unusable
        }
    }
}
