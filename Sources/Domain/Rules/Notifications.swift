import Foundation

/// Who is told what (issue 13, its first slice: the rules; the outbox and its delivery come next). The programme is a
/// chain of hand-offs: whoever must act next is told, and the programme team follows every step that engages money or
/// ends a mission. Pure functions over the mission before and after a step, so the table can be read and tested whole.

/// Who receives a notice.
public enum Recipient: Sendable, Hashable, Comparable {
    /// The expert of a mission (or the owner of a card).
    case expert(id: String)
    /// The members of a laureate.
    case laureate(id: String)
    /// The programme team.
    case team
}

/// What a notice says: one template per kind. Hand-offs are always sent; reminders can be turned off by each person.
public enum NoticeKind: String, Sendable, Hashable, Codable, CaseIterable {
    case missionRequested = "mission.requested"
    case invitedToPool = "mission.invited"
    case proposalReceived = "mission.proposed"
    case proposalSentBack = "mission.sent_back"
    case proposalAccepted = "mission.accepted"
    case reportDelivered = "mission.reported"
    case reviewReceived = "mission.reviewed"
    case laureateLeft = "mission.left"
    case missionEnded = "mission.ended"
    case cardSubmitted = "card.submitted"
    case proposalWaiting = "reminder.proposal_waiting"
    case reportOverdue = "reminder.report_overdue"
    case reviewOverdue = "reminder.review_overdue"

    /// Reminders of what waits too long, which a person may turn off; hand-offs cannot be.
    public var isReminder: Bool { rawValue.hasPrefix("reminder.") }
}

/// One notice to send: what happened, about what, to whom.
public struct Notice: Sendable, Hashable {
    public let kind: NoticeKind
    /// The mission or the card's expert it is about.
    public let subjectID: String
    public let recipients: [Recipient]

    public init(_ kind: NoticeKind, about subjectID: String, to recipients: [Recipient]) {
        self.kind = kind
        self.subjectID = subjectID
        self.recipients = Array(Set(recipients)).sorted()
    }
}

/// How long a step may wait before the one who must act is reminded (programme settings, not constants).
public struct ReminderSettings: Sendable, Hashable, Codable {
    /// A proposal no laureate answered.
    public var proposalUnansweredDays: Int
    /// A report still missing after the mission's planned end.
    public var reportMissingDaysAfterEnd: Int
    /// A review still missing after the report.
    public var reviewMissingDaysAfterReport: Int

    public init(proposalUnansweredDays: Int = 14, reportMissingDaysAfterEnd: Int = 30, reviewMissingDaysAfterReport: Int = 30) {
        self.proposalUnansweredDays = proposalUnansweredDays
        self.reportMissingDaysAfterEnd = reportMissingDaysAfterEnd
        self.reviewMissingDaysAfterReport = reviewMissingDaysAfterReport
    }
}

public enum NotificationRules {
    /// The notices a mission step sends: `before` is nil for a new request. The one who acted is not told of its own
    /// step (an expert's decline is not sent to that expert, a laureate's cancellation to that laureate, a termination
    /// by the team to the team).
    public static func notices(of action: MissionAction?, by caller: Caller, before: Mission?, after: Mission) -> [Notice] {
        let expert = Recipient.expert(id: after.expertID)
        let laureates = after.participants.filter(\.joined).map { Recipient.laureate(id: $0.laureateID) }
        func notice(_ kind: NoticeKind, _ recipients: [Recipient]) -> [Notice] {
            let others = recipients.filter { recipient in
                switch (recipient, caller) {
                case (.expert(let id), .expert(let actor)): id != actor
                case (.laureate(let id), .laureate(let actor)): id != actor
                case (.team, .admin): false
                default: true
                }
            }
            return others.isEmpty ? [] : [Notice(kind, about: after.id, to: others)]
        }
        guard let action else {
            // A new request: the expert is solicited; laureates invited into a pool are asked to join.
            return notice(.missionRequested, [expert])
                + notice(.invitedToPool, after.pendingLaureateIDs.map { .laureate(id: $0) })
        }
        let ended = after.state.isFinal && before?.state.isFinal != true
        // Laureates still only invited when the mission ends: their invitation ends with it.
        let invited = ended ? after.pendingLaureateIDs.map { Recipient.laureate(id: $0) } : []
        switch action {
        case .scope, .join: return []
        case .propose: return notice(.proposalReceived, laureates + [.team])
        case .sendBack: return notice(.proposalSentBack, [expert])
        case .accept:
            // In a pool the mission is accepted when the last laureate validates: until then nobody is told.
            return after.state == .accepted && before?.state != .accepted ? notice(.proposalAccepted, [expert, .team]) : []
        case .report: return notice(.reportDelivered, laureates + [.team])
        case .review: return notice(.reviewReceived, [.team])
        case .leave:
            // The last invitee declining a pool whose requester is gone ends the mission: everyone involved is told.
            if ended { return notice(.missionEnded, [expert, .team] + laureates + invited) }
            // An invited laureate that declines its invitation leaves a pool it never took part in.
            let wasJoined = before?.participants.contains { $0.joined && !after.laureateIDs.contains($0.laureateID) } ?? false
            return notice(.laureateLeft, wasJoined ? [expert, .team] + laureates : [.team])
        case .decline, .cancel, .terminate: return notice(.missionEnded, [expert, .team] + laureates + invited)
        }
    }

    /// How long after a card's submission is announced a new submission of the same card is not announced again (an
    /// expert looping submit → withdraw → reopen cannot flood the team and its partners).
    public static let cardSubmissionQuietPeriod: TimeInterval = 86_400

    /// The notices a card step sends: the team reviews what is submitted, once a day per card at most (`lastAnnounced`
    /// is when this card's last submission was announced).
    public static func notices(ofCard action: CardAction, expertID: String, lastAnnounced: Date? = nil, now: Date = Date()) -> [Notice] {
        guard action == .submit else { return [] }
        if let lastAnnounced, now.timeIntervalSince(lastAnnounced) < cardSubmissionQuietPeriod { return [] }
        return [Notice(.cardSubmitted, about: expertID, to: [.team])]
    }

    /// What waits too long on `mission`, which entered its state on `since`, as of `today`: a proposal no laureate
    /// answered, a report missing after the planned end, a review missing after the report. Each reminder goes to the
    /// ones who have not acted.
    public static func reminders(for mission: Mission, since: CalendarDate, today: CalendarDate, settings: ReminderSettings) -> [Notice] {
        let waited = today.daysSince(since)
        switch mission.state {
        case .proposed where waited >= settings.proposalUnansweredDays:
            let silent = mission.participants.filter { $0.joined && $0.acceptedOn == nil }.map { Recipient.laureate(id: $0.laureateID) }
            return silent.isEmpty ? [] : [Notice(.proposalWaiting, about: mission.id, to: silent)]
        case .accepted:
            guard let end = mission.proposal?.diagnostic.schedule.end, today.daysSince(end) >= settings.reportMissingDaysAfterEnd else {
                return []
            }
            return [Notice(.reportOverdue, about: mission.id, to: [.expert(id: mission.expertID)])]
        case .reported where waited >= settings.reviewMissingDaysAfterReport:
            let silent = mission.participants.filter { $0.joined && $0.reviewedOn == nil }.map { Recipient.laureate(id: $0.laureateID) }
            return silent.isEmpty ? [] : [Notice(.reviewOverdue, about: mission.id, to: silent)]
        default:
            return []
        }
    }
}

extension CalendarDate {
    /// Days from `earlier` to this day (negative when `earlier` is later). Years are 1–9999, so nothing overflows.
    public func daysSince(_ earlier: CalendarDate) -> Int { dayNumber - earlier.dayNumber }

    /// Days since 1 January of year 1 (the civil-from-days count of the proleptic Gregorian calendar).
    var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let monthIndex = (month + 9) % 12
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra
    }
}
