/// Who an expert is and how to reach it, as the people of one of its missions see it (SPEC §4.8).
public struct ExpertContact: Sendable, Hashable, Codable {
    public let expertID: String
    public let firstName: String
    public let lastName: String
    public let organisationName: String
    public let email: String?
    public let phone: String?
    public let website: String?

    /// Before the expert agrees to discuss (`requested`), and once the mission is `declined` or `cancelled`, a
    /// laureate sees only what the expert published in the directory (consent per field): a request
    /// must not be a way to collect contact details. While it is engaged (`scoping` to `closed`, or `terminated`), the
    /// people it works with see its card's contact details.
    public init(expertID: String, card: ExpertCardContent, fullContact: Bool) {
        self.expertID = expertID
        firstName = card.firstName
        lastName = card.lastName
        organisationName = card.organisation.name
        let contact = card.contact
        let consent = card.publication
        // An erased expert's address receives nothing: it is not a contact.
        email = (fullContact || consent.email ? contact.email : nil).flatMap { $0.isEmpty || Erasure.isErasedAddress($0) ? nil : $0 }
        phone = fullContact || consent.phone ? contact.phone : nil
        website = fullContact || consent.website ? contact.website : nil
    }

    /// Whether the people of a mission in `state` see the expert's card contact (it agreed to discuss).
    public static func isShared(in state: MissionState) -> Bool { DossierAccess(engagementIn: state).canRead }
}

/// The experts engaged with one laureate and on which missions: what its members, the team and those experts
/// themselves read to work together. Names, contact and mission titles, never amounts.
public struct TeamMember: Sendable, Hashable {
    public let expertID: String
    public let missions: [Engagement]
}

extension DossierAccess {
    /// The experts engaged with `laureateID` (from `scoping` on, closed and terminated engagements included), each
    /// with its missions, in the order of `engagements`.
    public static func team(at laureateID: String, engagements: [Engagement]) -> [TeamMember] {
        var order: [String] = []
        var missions: [String: [Engagement]] = [:]
        for engagement in engagements where engagement.laureateIDs.contains(laureateID) && engagement.level.canRead {
            if missions[engagement.expertID] == nil { order.append(engagement.expertID) }
            missions[engagement.expertID, default: []].append(engagement)
        }
        return order.map { TeamMember(expertID: $0, missions: missions[$0] ?? []) }
    }
}
