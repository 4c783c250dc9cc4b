/// The facts about a mission that access rules need, without amounts.
public struct Engagement: Sendable, Hashable {
    public let missionID: String
    public let title: String
    public let expertID: String
    public let laureateIDs: [String]
    public let state: MissionState

    public init(missionID: String, title: String, expertID: String, laureateIDs: [String], state: MissionState) {
        self.missionID = missionID
        self.title = title
        self.expertID = expertID
        self.laureateIDs = laureateIDs
        self.state = state
    }

    /// From `scoping` on the expert works with the laureate; after `closed` the engagement is archived.
    public var level: DossierAccess { DossierAccess(engagementIn: state) }
}

/// What an expert may do with a laureate's dossier (application, post-incubation file, framing note)
/// and with the mission files (SPEC §4.8).
public enum DossierAccess: Int, Sendable, Hashable, Comparable, CaseIterable {
    /// No engagement: the expert does not see the dossier at all.
    case none = 0
    /// A closed or terminated engagement: everything stays readable, nothing can be added.
    case archived = 1
    /// An engagement under way: the dossier is readable and mission files can be added.
    case active = 2

    public var canRead: Bool { self != .none }
    public var canWriteMissionFiles: Bool { self == .active }

    public static func < (lhs: DossierAccess, rhs: DossierAccess) -> Bool { lhs.rawValue < rhs.rawValue }

    /// What a mission in `state` gives its expert: from `scoping` on it works with the laureates; after `closed` the
    /// engagement is archived.
    public init(engagementIn state: MissionState) {
        switch state {
        case .scoping, .proposed, .accepted, .reported: self = .active
        case .closed, .terminated: self = .archived
        case .requested, .declined, .cancelled: self = .none
        }
    }

    /// The best access `expertID` has to `laureateID`'s dossier through any of their missions.
    public static func of(expertID: String, to laureateID: String, through engagements: [Engagement]) -> DossierAccess {
        engagements
            .filter { $0.expertID == expertID && $0.laureateIDs.contains(laureateID) }
            .map(\.level)
            .max() ?? .none
    }
}

/// What an expert engaged with a laureate sees of the other experts engaged with it: who and on what, never amounts.
public struct Colleague: Sendable, Hashable {
    public let expertID: String
    public let missionID: String
    public let missionTitle: String
}

extension DossierAccess {
    /// The other experts engaged with `laureateID`, visible to `expertID` only while it is engaged with it too.
    public static func colleagues(of expertID: String, at laureateID: String, engagements: [Engagement]) -> [Colleague] {
        guard of(expertID: expertID, to: laureateID, through: engagements).canRead else { return [] }
        return
            engagements
            .filter { $0.expertID != expertID && $0.laureateIDs.contains(laureateID) && $0.level.canRead }
            .map { Colleague(expertID: $0.expertID, missionID: $0.missionID, missionTitle: $0.title) }
    }
}
