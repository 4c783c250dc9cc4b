import Foundation

/// The roles of the API. Every operation states which of them reach it.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// The programme team of France Tiers-Lieux.
    case admin
    case expert
    /// A member of a laureate manufacture.
    case laureate
    /// The sync engine's service account.
    case sync
}

/// A user account as the rules see it.
public struct Account: Sendable, Hashable {
    public let id: String
    public let email: String
    public let role: Role
    public let displayName: String
    public let link: AccountLink

    public init(id: String, email: String, role: Role, displayName: String, link: AccountLink) {
        self.id = id
        self.email = email
        self.role = role
        self.displayName = displayName
        self.link = link
    }

    /// The expert card this account owns, if any.
    public var expertID: String? {
        if case .expert(let id) = link { return id }
        return nil
    }

    /// The laureate this account is a member of, if any.
    public var laureateID: String? {
        if case .laureate(let id) = link { return id }
        return nil
    }

    /// How this account relates to an expert card.
    public func cardActor(for cardExpertID: String) -> CardActor {
        switch role {
        case .admin: .admin
        case .expert: expertID == cardExpertID ? .owner : .otherExpert
        case .laureate: .laureate
        case .sync: .anonymous
        }
    }
}

/// Rules for credentials people choose.
public enum Credentials {
    public static let passwordLengths = 12...200
    /// bcrypt reads the first 72 bytes of a password: a longer one would be cut silently, so it is refused instead.
    public static let passwordMaxBytes = 72

    /// E-mail addresses are compared trimmed and lowercased.
    public static func normalisedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Every problem with a new account's e-mail and password.
    public static func errors(email: String, password: String, emailPointer: String = "/email", passwordPointer: String = "/password")
        -> [FieldError]
    {
        var errors: [FieldError] = []
        if !Contact.isValidEmail(normalisedEmail(email)) {
            errors.append(FieldError(emailPointer, "invalid_email", "Not an e-mail address."))
        }
        if !passwordLengths.contains(password.count) {
            errors.append(
                FieldError(
                    passwordPointer, "weak_password",
                    "A password has \(passwordLengths.lowerBound) to \(passwordLengths.upperBound) characters."))
        } else if password.utf8.count > passwordMaxBytes {
            errors.append(
                FieldError(
                    passwordPointer, "password_too_long",
                    "A password has at most \(passwordMaxBytes) bytes in UTF-8 (72 ASCII letters, fewer accented ones)."))
        } else if let scalar = TextRule.singleLine.firstForbidden(in: password) {
            errors.append(FieldError(passwordPointer, "control_character", "A password holds no control character (found \(TextRule.name(scalar)))."))
        }
        return errors
    }
}
