/// Where a document belongs, for the access rules: a laureate's dossier or one of its missions.
public enum DocumentOwner: Sendable, Hashable {
    case dossier(laureateID: String)
    case mission(Engagement)
}

/// Who may read and add documents (SPEC §4.8): the programme team and the sync service always; a laureate's members
/// their own dossier and missions (adding until a mission is declined, cancelled or terminated); an expert the dossier of a laureate it is engaged with (read only) and its own
/// missions' files (read and write while under way, read only once closed). Anyone else does not know they exist.
public enum DocumentAccess {
    public static func canRead(_ account: Account, _ owner: DocumentOwner, engagements: [Engagement]) -> Bool {
        switch (account.role, owner) {
        case (.admin, _), (.sync, _): true
        case (.laureate, .dossier(let laureate)): account.laureateID == laureate
        case (.laureate, .mission(let mission)): account.laureateID.map(mission.laureateIDs.contains) ?? false
        case (.expert, .dossier(let laureate)):
            account.expertID.map { DossierAccess.of(expertID: $0, to: laureate, through: engagements).canRead } ?? false
        case (.expert, .mission(let mission)): account.expertID == mission.expertID && mission.level.canRead
        }
    }

    public static func canWrite(_ account: Account, _ owner: DocumentOwner) -> Bool {
        switch (account.role, owner) {
        case (.admin, _), (.sync, _): true
        case (.laureate, .dossier(let laureate)): account.laureateID == laureate
        case (.laureate, .mission(let mission)):
            // A laureate still files its satisfaction review once the mission is closed.
            (account.laureateID.map(mission.laureateIDs.contains) ?? false)
                && ![.declined, .cancelled, .terminated].contains(mission.state)
        case (.expert, .dossier): false
        case (.expert, .mission(let mission)): account.expertID == mission.expertID && mission.level.canWriteMissionFiles
        }
    }
}
