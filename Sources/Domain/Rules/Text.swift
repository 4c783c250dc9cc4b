/// What text from outside may hold. Control characters have no place in a name, a title or a report: U+0000 stops
/// SQLite's `length()` and C strings, others corrupt logs, CSV exports and the Drive's file names. Free text keeps
/// tab, line feed and carriage return; a single-line field keeps none of them.
public enum TextRule: Sendable {
    /// Names, titles, e-mails, labels: one line.
    case singleLine
    /// Descriptions, comments, reports: several lines.
    case freeText

    /// The first character this rule refuses in `text`, if any.
    public func firstForbidden(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first { !allows($0) }
    }

    public func allows(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: self == .freeText
        case 0x00...0x1F, 0x7F, 0x80...0x9F: false
        default: true
        }
    }

    /// The most characters a field of this rule holds, whatever the operation (fields with a rule of their own, like
    /// titles, hold fewer): text is copied into e-mails, webhook payloads, exports and downloads. Counted in Unicode
    /// scalars (code points), so combining marks cannot stack a megabyte onto one visible character.
    public var maxLength: Int {
        switch self {
        case .singleLine: 1_000
        case .freeText: 20_000
        }
    }

    /// The refusal of `text` at `pointer`, in plain words, or nil when it is clean.
    public func error(in text: String, at pointer: String) -> FieldError? {
        // Counting stops past the bound: a 1 MiB string is not walked whole to learn it is too long.
        if text.utf8.count > maxLength, text.unicodeScalars.dropFirst(maxLength).isEmpty == false {
            return FieldError(pointer, "too_long", self == .singleLine ? "At most 1 000 characters." : "At most 20 000 characters.")
        }
        guard let scalar = firstForbidden(in: text) else { return nil }
        return FieldError(
            pointer, "control_character",
            self == .singleLine
                ? "This field holds one line of text without control characters (found \(TextRule.name(scalar)))."
                : "This text may hold tabs and line breaks but no other control character (found \(TextRule.name(scalar))).")
    }

    /// "U+0000" and the like.
    public static func name(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Request fields, by JSON name, that hold a single line wherever they appear; every other string is free text.
    public static let singleLineFields: Set<String> = [
        "title", "first_name", "last_name", "name", "email", "phone", "website", "display_name", "label", "signatory",
        "legal_entity", "commune_name", "commune_insee", "tiers_lieu", "file_name", "siret", "password", "expert_id",
        "laureate_id", "document_id", "laureate_ids", "subthemes", "sectors", "region_codes", "department_codes",
        "start_on", "end_on", "valid_until", "signed_on", "action", "state", "kind", "priority", "subtheme",
    ]

    /// The rule for a string found under the JSON member `key` (nil: an array element of an unnamed member).
    public static func rule(forMember key: String?) -> TextRule {
        key.map { singleLineFields.contains($0) } == true ? .singleLine : .freeText
    }
}

extension String {
    /// The text as HTML shows it verbatim (`&`, `<`, `>` and both quotes escaped): in an element or an attribute, it
    /// can never open a tag or close the attribute (e-mails, `/docs`).
    public var htmlEscaped: String {
        var escaped = ""
        escaped.reserveCapacity(utf8.count)
        for character in self {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
