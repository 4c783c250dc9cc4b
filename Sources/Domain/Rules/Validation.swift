import Foundation

/// One invalid field of a request, named by a JSON pointer (RFC 6901) into the request body.
public struct FieldError: Sendable, Hashable, Codable, CustomStringConvertible {
    public let pointer: String
    /// Stable machine-readable reason: `required`, `invalid_siret`, `unknown_subtheme`…
    public let code: String
    public let detail: String

    public init(_ pointer: String, _ code: String, _ detail: String) {
        self.pointer = pointer
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(pointer): \(code)" }
}

/// Thrown when a value fails validation; carries every field error at once.
public struct ValidationFailure: Error, Sendable, Hashable {
    public let errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
}

/// Builds a JSON pointer from path components, escaping `~` and `/` as RFC 6901 says.
public func jsonPointer(_ components: [CustomStringConvertible]) -> String {
    components.map { "/" + "\($0)".replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
        .joined()
}

/// SIRET numbers: 14 digits that pass the Luhn check (La Poste's establishments follow their own rule).
public enum Siret {
    /// La Poste's SIREN: its establishments' SIRETs have a digit sum that is a multiple of 5 instead.
    static let laPosteSiren = "356000000"

    /// Removes the spaces people type between groups of digits.
    public static func normalised(_ raw: String) -> String { raw.filter { $0 != " " && $0 != "\u{00A0}" } }

    public static func isValid(_ raw: String) -> Bool {
        let siret = normalised(raw)
        guard siret.count == 14, siret.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        let digits = siret.compactMap(\.wholeNumberValue)
        if siret.hasPrefix(laPosteSiren) && siret != "35600000000048" {
            return digits.reduce(0, +) % 5 == 0
        }
        return luhn(digits)
    }

    /// The Luhn checksum: double every second digit from the right, and the sum must be a multiple of 10.
    public static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            if index % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }
}

/// Contact details as people type them.
public enum Contact {
    /// A pragmatic address check: one `@`, a non-empty local part, a dotted domain of letters, digits and hyphens.
    public static func isValidEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, email.utf8.count <= 254 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64, !local.hasPrefix("."), !local.hasSuffix("."),
            !local.contains(".."),
            local.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-/=?^_`{|}~.".contains($0)) })
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return false }
        }
        // `.invalid` never receives mail (RFC 2606): erased accounts are renamed there, so nobody may take one.
        return labels.last!.allSatisfy(\.isLetter) && labels.last!.count >= 2 && labels.last!.lowercased() != "invalid"
    }

    /// An absolute `http` or `https` address with a host.
    public static func isValidWebURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = text.dropFirst(7)
        } else {
            return false
        }
        guard !text.contains(where: { $0.isWhitespace }) else { return false }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }.split(separator: ":").first ?? ""
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }
    }

    /// French numbers: `0X XX XX XX XX`, `+33 X…`, `0033 X…`, or an overseas `+262/+269/+590/+594/+596` number;
    /// spaces, dots, dashes and the `(0)` habit are allowed.
    public static func normalisedFrenchPhone(_ raw: String) -> String? {
        var text = raw.replacingOccurrences(of: "(0)", with: "")
        text.removeAll { " .-\u{00A0}".contains($0) }
        if text.hasPrefix("00") { text = "+" + text.dropFirst(2) }
        let digits: Substring
        if text.hasPrefix("+33") {
            digits = text.dropFirst(3)
        } else if let overseas = ["+262", "+269", "+590", "+594", "+596"].first(where: text.hasPrefix) {
            digits = text.dropFirst(overseas.count)
        } else if text.hasPrefix("0") {
            digits = text.dropFirst()
        } else {
            return nil
        }
        guard digits.count == 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else { return nil }
        return text.hasPrefix("+") ? text : "+33" + digits
    }

    public static func isValidFrenchPhone(_ raw: String) -> Bool { normalisedFrenchPhone(raw) != nil }
}
