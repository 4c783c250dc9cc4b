import Foundation

/// What an expert answers in the registration form: the content of their directory card.
public struct ExpertCardContent: Sendable, Hashable, Codable {
    public var firstName: String
    public var lastName: String
    public var organisation: Organisation
    public var contact: ContactDetails
    /// A few sentences presenting the expert, shown in the directory.
    public var summary: String
    public var subthemeCodes: [String]
    public var coverage: Coverage
    /// Sectors of production the expert knows (wood, textile, food…), free labels.
    public var sectors: [String]
    public var experiences: [PriorExperience]
    public var declaration: NoInterestDeclaration?
    public var publication: PublicationConsent

    public init(
        firstName: String = "", lastName: String = "", organisation: Organisation = .init(),
        contact: ContactDetails = .init(), summary: String = "", subthemeCodes: [String] = [],
        coverage: Coverage = .init(), sectors: [String] = [], experiences: [PriorExperience] = [],
        declaration: NoInterestDeclaration? = nil, publication: PublicationConsent = .init()
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.organisation = organisation
        self.contact = contact
        self.summary = summary
        self.subthemeCodes = subthemeCodes
        self.coverage = coverage
        self.sectors = sectors
        self.experiences = experiences
        self.declaration = declaration
        self.publication = publication
    }
}

/// The legal entity the expert invoices through.
public struct Organisation: Sendable, Hashable, Codable {
    public var name: String
    public var siret: String
    public init(name: String = "", siret: String = "") {
        self.name = name
        self.siret = siret
    }
}

public struct ContactDetails: Sendable, Hashable, Codable {
    public var email: String
    public var phone: String?
    public var website: String?
    public init(email: String = "", phone: String? = nil, website: String? = nil) {
        self.email = email
        self.phone = phone
        self.website = website
    }
}

/// A prior experience with tiers-lieux, ideally productive ones.
public struct PriorExperience: Sendable, Hashable, Codable {
    public var tiersLieu: String
    public var description: String
    /// True when the tiers-lieu was a productive one (fablab, manufacture, workshop…).
    public var productive: Bool
    public init(tiersLieu: String, description: String, productive: Bool) {
        self.tiersLieu = tiersLieu
        self.description = description
        self.productive = productive
    }
}

/// The signed statement that the expert holds no interest in any labelled manufacture.
public struct NoInterestDeclaration: Sendable, Hashable, Codable {
    public var signatory: String
    public var signedOn: CalendarDate
    public init(signatory: String, signedOn: CalendarDate) {
        self.signatory = signatory
        self.signedOn = signedOn
    }
}

/// What the expert agreed to show in the public directory beyond their name, organisation and card.
public struct PublicationConsent: Sendable, Hashable, Codable {
    public var email: Bool
    public var phone: Bool
    public var website: Bool
    public init(email: Bool = false, phone: Bool = false, website: Bool = true) {
        self.email = email
        self.phone = phone
        self.website = website
    }
}

extension ExpertCardContent {
    /// Every reason the card cannot be submitted yet, each with the JSON pointer of its field; empty when it can.
    public func submissionErrors() -> [FieldError] {
        var errors: [FieldError] = []
        func required(_ value: String, _ pointer: String, _ what: String) -> Bool {
            if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                errors.append(FieldError(pointer, "required", "\(what) is required."))
                return false
            }
            return true
        }
        _ = required(firstName, "/first_name", "First name")
        _ = required(lastName, "/last_name", "Last name")
        _ = required(organisation.name, "/organisation/name", "Organisation name")
        if required(organisation.siret, "/organisation/siret", "SIRET"), !Siret.isValid(organisation.siret) {
            errors.append(FieldError("/organisation/siret", "invalid_siret", "A SIRET is 14 digits passing the Luhn check."))
        }
        if required(contact.email, "/contact/email", "E-mail"), !Contact.isValidEmail(contact.email) {
            errors.append(FieldError("/contact/email", "invalid_email", "Not an e-mail address."))
        }
        if let phone = contact.phone, !phone.isEmpty, !Contact.isValidFrenchPhone(phone) {
            errors.append(FieldError("/contact/phone", "invalid_phone", "Not a French phone number."))
        }
        if let website = contact.website, !website.isEmpty, !Contact.isValidWebURL(website) {
            errors.append(FieldError("/contact/website", "invalid_url", "Not an http(s) address."))
        }
        _ = required(summary, "/summary", "Summary")
        if subthemeCodes.isEmpty {
            errors.append(FieldError("/subthemes", "required", "Choose at least one subtheme."))
        }
        for (index, code) in subthemeCodes.enumerated() where Taxonomy.subtheme(code) == nil {
            errors.append(FieldError("/subthemes/\(index)", "unknown_subtheme", "No subtheme has code \(code)."))
        }
        if !coverage.namesAPlace {
            errors.append(FieldError("/coverage", "required", "Choose at least one territory, or national."))
        }
        for (index, code) in coverage.regionCodes.enumerated() where Territories.region(code) == nil {
            errors.append(FieldError("/coverage/regions/\(index)", "unknown_region", "No région has code \(code)."))
        }
        for (index, code) in coverage.departmentCodes.enumerated() where Territories.department(code) == nil {
            errors.append(FieldError("/coverage/departments/\(index)", "unknown_department", "No département has code \(code)."))
        }
        if experiences.isEmpty {
            errors.append(FieldError("/experiences", "required", "Describe at least one prior experience with tiers-lieux."))
        }
        for (index, experience) in experiences.enumerated() {
            _ = required(experience.tiersLieu, "/experiences/\(index)/tiers_lieu", "The tiers-lieu")
            _ = required(experience.description, "/experiences/\(index)/description", "The description")
        }
        if let declaration {
            _ = required(declaration.signatory, "/declaration/signatory", "The signatory")
        } else {
            errors.append(
                FieldError("/declaration", "declaration_required", "Sign the declaration of no interest in any labelled manufacture."))
        }
        return errors + lengthErrors()
    }

    /// Answers that are wrong rather than missing: what an edit of a draft may not store.
    public func shapeErrors() -> [FieldError] {
        submissionErrors().filter { $0.code != "required" && $0.code != "declaration_required" }
    }

    /// Bounds on sizes, so no answer can bloat the card.
    func lengthErrors() -> [FieldError] {
        var errors: [FieldError] = []
        func limit(_ value: String, _ max: Int, _ pointer: String) {
            if value.count > max { errors.append(FieldError(pointer, "too_long", "At most \(max) characters.")) }
        }
        limit(firstName, 100, "/first_name")
        limit(lastName, 100, "/last_name")
        if let reserved = Erasure.reservedNameError("\(firstName) \(lastName)", at: "/last_name") { errors.append(reserved) }
        limit(organisation.name, 200, "/organisation/name")
        limit(contact.email, 254, "/contact/email")
        limit(contact.website ?? "", 500, "/contact/website")
        limit(summary, 3000, "/summary")
        if subthemeCodes.count > 37 { errors.append(FieldError("/subthemes", "too_many", "At most 37 subthemes.")) }
        if experiences.count > 30 { errors.append(FieldError("/experiences", "too_many", "At most 30 experiences.")) }
        if sectors.count > 20 { errors.append(FieldError("/sectors", "too_many", "At most 20 sectors.")) }
        for (index, sector) in sectors.enumerated() { limit(sector, 60, "/sectors/\(index)") }
        for (index, experience) in experiences.enumerated() {
            limit(experience.tiersLieu, 200, "/experiences/\(index)/tiers_lieu")
            limit(experience.description, 3000, "/experiences/\(index)/description")
        }
        return errors
    }
}

/// Where an expert card stands between registration and the public directory.
public enum CardState: String, Sendable, Hashable, Codable, CaseIterable {
    case draft, submitted
    case changesRequested = "changes_requested"
    case published, rejected, suspended, withdrawn

    /// Only published cards appear in the directory.
    public var isListed: Bool { self == .published }
}

/// What can be done to a card.
public enum CardAction: String, Sendable, Hashable, Codable, CaseIterable {
    case submit
    case requestChanges = "request_changes"
    case publish, reject, suspend, reinstate, withdraw, reopen
}

/// Who acts on a card: its own expert, the programme team, or anybody else.
public enum CardActor: String, Sendable, Hashable, Codable, CaseIterable {
    case owner, admin, otherExpert = "other_expert", laureate, anonymous
}

/// Why a card operation was refused.
public enum CardError: Error, Sendable, Hashable {
    case transitionNotAllowed(from: CardState, action: CardAction, actor: CardActor)
    case incomplete([FieldError])
    case notEditable(CardState)
}

/// The card lifecycle as data: every allowed (from, action, actor) → to; anything else is refused.
public enum CardWorkflow {
    public struct Transition: Sendable, Hashable {
        public let from: CardState
        public let action: CardAction
        public let actor: CardActor
        public let to: CardState
    }

    public static let transitions: [Transition] = [
        .init(from: .draft, action: .submit, actor: .owner, to: .submitted),
        .init(from: .changesRequested, action: .submit, actor: .owner, to: .submitted),
        .init(from: .submitted, action: .requestChanges, actor: .admin, to: .changesRequested),
        .init(from: .submitted, action: .publish, actor: .admin, to: .published),
        .init(from: .submitted, action: .reject, actor: .admin, to: .rejected),
        .init(from: .published, action: .suspend, actor: .admin, to: .suspended),
        .init(from: .suspended, action: .reinstate, actor: .admin, to: .published),
        .init(from: .draft, action: .withdraw, actor: .owner, to: .withdrawn),
        .init(from: .submitted, action: .withdraw, actor: .owner, to: .withdrawn),
        .init(from: .changesRequested, action: .withdraw, actor: .owner, to: .withdrawn),
        .init(from: .published, action: .withdraw, actor: .owner, to: .withdrawn),
        .init(from: .suspended, action: .withdraw, actor: .owner, to: .withdrawn),
        .init(from: .withdrawn, action: .reopen, actor: .owner, to: .draft),
    ]

    private static let table: [Key: CardState] = Dictionary(
        uniqueKeysWithValues: transitions.map { (Key(from: $0.from, action: $0.action, actor: $0.actor), $0.to) }
    )

    private struct Key: Hashable {
        let from: CardState
        let action: CardAction
        let actor: CardActor
    }

    /// The state after `action`, or the refusal. Submitting also needs a complete card, checked in `submit`.
    public static func next(from: CardState, action: CardAction, actor: CardActor) throws(CardError) -> CardState {
        guard let to = table[Key(from: from, action: action, actor: actor)] else {
            throw .transitionNotAllowed(from: from, action: action, actor: actor)
        }
        return to
    }

    /// The owner submits: the transition must be allowed and every required answer given.
    public static func submit(_ content: ExpertCardContent, from: CardState, actor: CardActor) throws(CardError) -> CardState {
        let to = try next(from: from, action: .submit, actor: actor)
        let errors = content.submissionErrors()
        guard errors.isEmpty else { throw .incomplete(errors) }
        return to
    }

    /// Only the card's expert and the programme team know a card exists outside the public directory.
    public static func canRead(_ actor: CardActor) -> Bool { actor == .owner || actor == .admin }

    /// Whether `actor` may take `action` in some state: when not, a refusal is about the role (403), not the state (409).
    public static func mayEver(_ action: CardAction, _ actor: CardActor) -> Bool {
        transitions.contains { $0.action == action && $0.actor == actor }
    }

    /// The programme team explains a request for changes to the expert.
    public static func requiresMessage(_ action: CardAction) -> Bool { action == .requestChanges }

    /// The actions `actor` may take on a card in `state`, for front ends to show the right buttons.
    public static func allowedActions(in state: CardState, for actor: CardActor) -> [CardAction] {
        CardAction.allCases.filter { table[Key(from: state, action: $0, actor: actor)] != nil }
    }

    /// The expert edits their answers only while the card is a draft or sent back for changes.
    public static func canEdit(_ state: CardState, actor: CardActor) -> Bool {
        actor == .owner && (state == .draft || state == .changesRequested)
    }
}
