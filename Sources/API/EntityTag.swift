import Foundation

/// Strong entity tags for representations, and the `If-None-Match` comparison of RFC 9110 §13.1.2.
public struct EntityTag: Sendable, Hashable, CustomStringConvertible {
    /// The opaque part, without quotes.
    public let opaque: String

    /// A tag that changes whenever the bytes of `data` change (FNV-1a, 64 bits: a validator, not a secret).
    public init(of data: Data) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        opaque = String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The tag of a value's canonical JSON encoding (sorted keys).
    public init(ofJSON value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(of: (try? encoder.encode(value)) ?? Data())
    }

    /// `"…"`, as sent in the `ETag` header.
    public var description: String { "\"\(opaque)\"" }

    /// Whether an `If-None-Match` header value matches this tag (weak comparison; `*` matches anything).
    public func matches(ifNoneMatch header: String?) -> Bool {
        guard let header else { return false }
        return Self.matches(ifNoneMatch: header, etag: description)
    }

    /// Whether an `If-None-Match` header value matches the quoted tag `etag`.
    public static func matches(ifNoneMatch header: String, etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }
}
