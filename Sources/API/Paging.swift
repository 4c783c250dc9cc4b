import Foundation

/// Cursors of the lists that are not delta feeds: opaque to clients (base64url of a small JSON position), checked when
/// read back, so a forged or truncated cursor is a 400, never a trap nor a silently wrong page.
enum PageCursor {
    static func encode(_ position: some Encodable) -> String {
        let data = (try? JSONEncoder().encode(position)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode<Position: Decodable>(_ cursor: String?, as type: Position.Type) throws -> Position? {
        guard let cursor else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard cursor.utf8.count <= 1024, let data = Data(base64Encoded: base64), let position = try? JSONDecoder().decode(type, from: data)
        else { throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this list.") }
        return position
    }

    /// A text key that sorts a non-negative number as numbers sort (zero-padded to 19 digits).
    static func ascendingKey(_ value: Int) -> String {
        let digits = String(max(0, value))
        return String(repeating: "0", count: max(0, 19 - digits.count)) + digits
    }

    /// A text key that sorts a non-negative number from the largest down.
    static func descendingKey(_ value: Int) -> String { ascendingKey(Int.max - max(0, value)) }

    /// A page of a list read whole from storage (laureates, tokens, framing notes, conflicts, a team), ordered by `key` (unique
    /// per item): the cursor is the key of the last item given, so an item added or removed meanwhile shifts nothing.
    static func page<Item>(_ items: [Item], limit: Int, cursor: String?, key: (Item) -> [String]) throws -> (
        items: [Item], next: String?, more: Bool
    ) {
        let after = try decode(cursor, as: [String].self)
        if let after, after.isEmpty { throw APIProblem.badParameter("cursor", "invalid_cursor", "Not a cursor of this list.") }
        let precedes = { (lhs: [String], rhs: [String]) in lhs.lexicographicallyPrecedes(rhs) }
        let sorted = items.map { (key: key($0), item: $0) }.sorted { precedes($0.key, $1.key) }
        let rest = after.map { after in sorted.filter { precedes(after, $0.key) } } ?? sorted
        let page = rest.prefix(limit)
        return (page.map(\.item), (page.last?.key ?? after).map(encode), rest.count > limit)
    }

}
