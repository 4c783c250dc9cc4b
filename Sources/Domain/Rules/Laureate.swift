import Foundation

/// A laureate manufacture of the programme.
public struct Laureate: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    /// Stable folder name on the Drive, fixed at creation (see `Slug`).
    public var slug: String
    public var legalEntity: String
    public var siret: String
    public var communeINSEE: String
    public var communeName: String
    public var departmentCode: String
    public var territoryTypes: Set<TerritoryType>
    public var cohort: Int
    public var sectors: [String]
    public var supportCeilingCents: Int

    public init(
        id: String, name: String, slug: String, legalEntity: String, siret: String, communeINSEE: String,
        communeName: String, departmentCode: String, territoryTypes: Set<TerritoryType>, cohort: Int,
        sectors: [String], supportCeilingCents: Int
    ) {
        self.id = id
        self.name = name
        self.slug = slug
        self.legalEntity = legalEntity
        self.siret = siret
        self.communeINSEE = communeINSEE
        self.communeName = communeName
        self.departmentCode = departmentCode
        self.territoryTypes = territoryTypes
        self.cohort = cohort
        self.sectors = sectors
        self.supportCeilingCents = supportCeilingCents
    }

    /// The région follows from the département.
    public var regionCode: String? { Territories.department(departmentCode)?.regionCode }

    /// Every problem with the laureate's record under the programme's settings.
    public func errors(settings: ProgrammeSettings) -> [FieldError] {
        var errors: [FieldError] = []
        if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors.append(FieldError("/name", "required", "A laureate has a name."))
        }
        if !Siret.isValid(siret) {
            errors.append(FieldError("/siret", "invalid_siret", "A SIRET is 14 digits passing the Luhn check."))
        }
        if Territories.department(departmentCode) == nil {
            errors.append(FieldError("/department", "unknown_department", "No département has code \(departmentCode)."))
        }
        if !settings.cohorts.contains(where: { $0.number == cohort }) {
            errors.append(FieldError("/cohort", "unknown_cohort", "The programme has no cohort \(cohort)."))
        }
        if !settings.allowsCeiling(supportCeilingCents) {
            errors.append(
                FieldError(
                    "/support_ceiling_cents", "invalid_ceiling",
                    "The ceiling is one of \(settings.supportCeilings.map(Money.formatted).joined(separator: ", "))."))
        }
        return errors
    }
}

/// How much a laureate needs help on a subtheme.
public enum NeedPriority: String, Sendable, Hashable, Codable, CaseIterable {
    case high, medium, low
}

/// One need of a framing note, indexed on a subtheme.
public struct Need: Sendable, Hashable, Codable {
    public var subthemeCode: String
    public var priority: NeedPriority
    public var description: String

    public init(subthemeCode: String, priority: NeedPriority, description: String) {
        self.subthemeCode = subthemeCode
        self.priority = priority
        self.description = description
    }
}

/// A version of a laureate's framing note ("note de cadrage"): its needs by subtheme. Every version is kept.
public struct FramingNoteVersion: Sendable, Hashable, Codable {
    public var laureateID: String
    /// 1 for the first note, then one more for each revision.
    public var version: Int
    public var needs: [Need]
    public var documentID: String?

    public init(laureateID: String, version: Int, needs: [Need], documentID: String? = nil) {
        self.laureateID = laureateID
        self.version = version
        self.needs = needs
        self.documentID = documentID
    }

    /// Every problem with the needs of a note about to be written.
    public static func errors(needs: [Need]) -> [FieldError] {
        var errors: [FieldError] = []
        if needs.isEmpty {
            errors.append(FieldError("/needs", "required", "A framing note states at least one need."))
        }
        var seen: Set<String> = []
        for (index, need) in needs.enumerated() {
            if Taxonomy.subtheme(need.subthemeCode) == nil {
                errors.append(FieldError("/needs/\(index)/subtheme", "unknown_subtheme", "No subtheme has code \(need.subthemeCode)."))
            } else if !seen.insert(need.subthemeCode).inserted {
                errors.append(FieldError("/needs/\(index)/subtheme", "duplicate", "Each subtheme appears once."))
            }
        }
        return errors
    }

    /// The next version after `latest` (nil for the first note), refused when the needs are invalid.
    public static func revise(
        _ latest: FramingNoteVersion?, laureateID: String, needs: [Need], documentID: String? = nil
    ) throws(ValidationFailure) -> FramingNoteVersion {
        let errors = errors(needs: needs)
        guard errors.isEmpty else { throw ValidationFailure(errors) }
        return FramingNoteVersion(laureateID: laureateID, version: (latest?.version ?? 0) + 1, needs: needs, documentID: documentID)
    }
}

/// The declared conflicts of interest between experts and laureates, recorded by the programme team.
public struct ConflictRegistry: Sendable, Hashable {
    public struct Pair: Sendable, Hashable {
        public let expertID: String
        public let laureateID: String
        public init(expertID: String, laureateID: String) {
            self.expertID = expertID
            self.laureateID = laureateID
        }
    }

    public private(set) var pairs: Set<Pair>

    public init(_ pairs: [Pair] = []) { self.pairs = Set(pairs) }

    public mutating func record(expertID: String, laureateID: String) {
        pairs.insert(Pair(expertID: expertID, laureateID: laureateID))
    }

    public func conflicts(expertID: String, laureateID: String) -> Bool {
        pairs.contains(Pair(expertID: expertID, laureateID: laureateID))
    }

    /// Such a pair can never start or go on with a mission.
    public func check(expertID: String, laureateIDs: [String]) throws(MissionError) {
        if let laureate = laureateIDs.first(where: { conflicts(expertID: expertID, laureateID: $0) }) {
            throw .conflictOfInterest(expertID: expertID, laureateID: laureate)
        }
    }
}

/// What a user account is tied to: nothing, one expert card, or one laureate. Never both.
public enum AccountLink: Sendable, Hashable {
    case none
    case expert(id: String)
    case laureate(id: String)

    /// Why an account cannot take a new link.
    public enum Error: Swift.Error, Sendable, Hashable {
        /// "A user account cannot be both an expert and a laureate member", nor two of either.
        case alreadyLinked(AccountLink)
    }

    /// The link after tying the account to `new`; an account already tied elsewhere is refused.
    public func linking(_ new: AccountLink) throws(AccountLink.Error) -> AccountLink {
        guard self == .none || self == new else { throw .alreadyLinked(self) }
        return new
    }
}
