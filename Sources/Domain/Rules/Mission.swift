import Foundation

/// Where a mission stands, from the laureate's first request to the satisfaction review (SPEC §4.3).
public enum MissionState: String, Sendable, Hashable, Codable, CaseIterable {
    case requested, scoping, proposed, accepted, reported, closed, declined, cancelled, terminated

    /// The amounts of missions in these states count against the laureate's ceiling.
    public var commitsBudget: Bool {
        switch self {
        case .accepted, .reported, .closed, .terminated: true
        case .requested, .scoping, .proposed, .declined, .cancelled: false
        }
    }

    /// After acceptance the expert is bound to finish: only the programme team can end the mission early.
    public var bindsExpert: Bool { self == .accepted || self == .reported }

    /// No transition leaves these states.
    public var isFinal: Bool {
        switch self {
        case .closed, .declined, .cancelled, .terminated: true
        case .requested, .scoping, .proposed, .accepted, .reported: false
        }
    }
}

/// What can be done to a mission.
public enum MissionAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// The expert accepts to discuss the request.
    case scope
    /// The expert sends the diagnostic and the quote.
    case propose
    /// A laureate sends the proposal back for changes, with comments.
    case sendBack = "send_back"
    /// A laureate validates the diagnostic and signs the quote (its own share for a pooled mission).
    case accept
    /// The expert delivers the mission report.
    case report
    /// A laureate sends its satisfaction review.
    case review
    case decline, cancel
    /// The programme team ends an accepted mission, with a reason.
    case terminate
    /// A laureate leaves a pooled mission before acceptance; the others go on (a proposal goes back to scoping).
    /// For a laureate invited into a pooled request, leaving is declining the invitation.
    case leave
    /// A laureate invited into a pooled request by another one accepts the invitation: only then does it take part.
    case join
}

/// Who acts, seen from the mission: one of its laureates, its expert, the programme team, or someone else.
public enum MissionActor: String, Sendable, Hashable, Codable, CaseIterable {
    case laureate, expert, admin
    case otherLaureate = "other_laureate"
    case otherExpert = "other_expert"
    case sync, anonymous
}

/// The mission lifecycle as data: every allowed (from, action, actor) → to; anything else is refused.
public enum MissionWorkflow {
    /// The most laureates one pooled mission may gather (the programme has 100).
    public static let maxParticipants = 100

    public struct Transition: Sendable, Hashable {
        public let from: MissionState
        public let action: MissionAction
        public let actor: MissionActor
        public let to: MissionState
    }

    private static let beforeAcceptance: [MissionState] = [.requested, .scoping, .proposed]

    public static let transitions: [Transition] =
        [
            .init(from: .requested, action: .scope, actor: .expert, to: .scoping),
            .init(from: .scoping, action: .propose, actor: .expert, to: .proposed),
            .init(from: .proposed, action: .sendBack, actor: .laureate, to: .scoping),
            .init(from: .proposed, action: .accept, actor: .laureate, to: .accepted),
            .init(from: .accepted, action: .report, actor: .expert, to: .reported),
            .init(from: .reported, action: .review, actor: .laureate, to: .closed),
            .init(from: .scoping, action: .decline, actor: .laureate, to: .declined),
            .init(from: .proposed, action: .decline, actor: .laureate, to: .declined),
            .init(from: .accepted, action: .terminate, actor: .admin, to: .terminated),
            .init(from: .reported, action: .terminate, actor: .admin, to: .terminated),
        ]
        + beforeAcceptance.map { .init(from: $0, action: .decline, actor: .expert, to: .declined) }
        + beforeAcceptance.map { .init(from: $0, action: .cancel, actor: .laureate, to: .cancelled) }
        + beforeAcceptance.map { .init(from: $0, action: .cancel, actor: .admin, to: .cancelled) }
        + [
            .init(from: .requested, action: .leave, actor: .laureate, to: .requested),
            .init(from: .scoping, action: .leave, actor: .laureate, to: .scoping),
            .init(from: .proposed, action: .leave, actor: .laureate, to: .scoping),
            .init(from: .requested, action: .join, actor: .laureate, to: .requested),
        ]

    private struct Key: Hashable {
        let from: MissionState
        let action: MissionAction
        let actor: MissionActor
    }

    private static let table: [Key: MissionState] = Dictionary(
        uniqueKeysWithValues: transitions.map { (Key(from: $0.from, action: $0.action, actor: $0.actor), $0.to) }
    )

    /// The state the table leads to, or the refusal.
    public static func next(from: MissionState, action: MissionAction, actor: MissionActor) throws(MissionError) -> MissionState {
        guard let to = table[Key(from: from, action: action, actor: actor)] else {
            throw .transitionNotAllowed(from: from, action: action, actor: actor)
        }
        return to
    }

    /// The actions `actor` may take on a mission in `state`, for front ends to show the right buttons.
    public static func allowedActions(in state: MissionState, for actor: MissionActor) -> [MissionAction] {
        MissionAction.allCases.filter { table[Key(from: state, action: $0, actor: actor)] != nil }
    }

    /// The actions `caller` may take on `mission`: an invited laureate only answers its invitation (join or leave),
    /// a laureate that takes part never joins again.
    public static func allowedActions(on mission: Mission, for caller: Caller) -> [MissionAction] {
        // The same guards as `apply`: no leave on a mission of one laureate, no scope while invitations are pending,
        // no laureate ending a pool others take part in.
        let actions = allowedActions(in: mission.state, for: caller.actor(on: mission)).filter {
            ($0 != .leave || mission.isPooled) && ($0 != .scope || mission.pendingLaureateIDs.isEmpty)
        }
        guard case .laureate(let id) = caller, let own = mission.participants.first(where: { $0.laureateID == id }) else {
            return actions
        }
        guard own.joined else { return actions.filter { $0 == .join || $0 == .leave } }
        var refused = mission.othersTakePart(besides: id) ? [MissionAction.cancel, .decline, .join] : [.join]
        // Its own share validated, or its own review sent: the others' turn (the step answers `already_done`).
        if own.acceptedOn != nil { refused.append(.accept) }
        if own.reviewedOn != nil { refused.append(.review) }
        return actions.filter { !refused.contains($0) }
    }
}

/// Why a mission operation was refused, in the programme's words.
public enum MissionError: Error, Sendable, Hashable {
    case transitionNotAllowed(from: MissionState, action: MissionAction, actor: MissionActor)
    /// "Sans note de cadrage remise, les lauréats ne peuvent démarrer la phase d'accompagnement sur mesure."
    case framingNoteMissing(laureateID: String)
    case conflictOfInterest(expertID: String, laureateID: String)
    /// The acceptance would take the laureate over its ceiling; `remainingCents` is what is left.
    case budgetExceeded(laureateID: String, requestedCents: Int, remainingCents: Int)
    case outsideWindow(date: CalendarDate, window: DateInterval)
    case quoteExpired(validUntil: CalendarDate)
    case invalid([FieldError])
    case reasonRequired
    case alreadyDone(laureateID: String, action: MissionAction)
    case notAParticipant(laureateID: String)
    /// Leaving is for pooled missions; a single laureate declines or cancels instead.
    case notPooled
    /// Invited laureates have not answered yet: the expert cannot take up the request until they join or decline.
    case invitationsPending(laureateIDs: [String])
    /// An invited laureate answers its invitation (join or leave) before it may do anything else on the mission.
    case notJoined(laureateID: String)
    /// Other laureates take part in this pooled mission: a laureate leaves it, it does not end it for them.
    case othersTakePart(laureateID: String)
}

/// A laureate taking part in a mission, with its share of a pooled quote and where it stands.
public struct Participant: Sendable, Hashable, Codable {
    public var laureateID: String
    /// Its share of the quote total including VAT, in cents; set when the proposal is sent.
    public var shareCents: Int?
    public var acceptedOn: CalendarDate?
    public var reviewedOn: CalendarDate?
    public var review: SatisfactionReview?
    /// False while the laureate is only invited by another one (SPEC §4.7): it takes part once one of its members joins.
    public var joined: Bool

    public init(
        laureateID: String, shareCents: Int? = nil, acceptedOn: CalendarDate? = nil, reviewedOn: CalendarDate? = nil,
        review: SatisfactionReview? = nil, joined: Bool = true
    ) {
        self.joined = joined
        self.laureateID = laureateID
        self.shareCents = shareCents
        self.acceptedOn = acceptedOn
        self.reviewedOn = reviewedOn
        self.review = review
    }
}

/// A mission between one expert and one laureate, or several for a pooled mission.
public struct Mission: Sendable, Hashable, Codable {
    public var id: String
    public var ref: MissionRef
    public var title: String
    /// The subthemes the mission works on, from the laureate's needs.
    public var subthemeCodes: [String]
    public var expertID: String
    public var participants: [Participant]
    public var state: MissionState
    public var proposal: Proposal?
    public var report: MissionReport?
    /// Comments of the last send-back, or the reason of a decline, cancellation or termination.
    public var lastComment: String?

    public init(
        id: String, ref: MissionRef, title: String, subthemeCodes: [String] = [], expertID: String, participants: [Participant],
        state: MissionState = .requested, proposal: Proposal? = nil, report: MissionReport? = nil, lastComment: String? = nil
    ) {
        self.subthemeCodes = subthemeCodes
        self.report = report
        self.id = id
        self.ref = ref
        self.title = title
        self.expertID = expertID
        self.participants = participants
        self.state = state
        self.proposal = proposal
        self.lastComment = lastComment
    }

    public var isPooled: Bool { participants.count > 1 }

    /// A title names the mission in lists, e-mails and reports: one short line.
    public static let maxTitleLength = 200
    /// Every laureate on the mission, invited ones included (they may see the invitation and answer it).
    public var laureateIDs: [String] { participants.map(\.laureateID) }
    /// The laureates that take part: the requester and those who accepted their invitation.
    public var joinedLaureateIDs: [String] { participants.filter(\.joined).map(\.laureateID) }
    /// The laureates invited that have not answered yet.
    public var pendingLaureateIDs: [String] { participants.filter { !$0.joined }.map(\.laureateID) }
    /// Whether a laureate other than `laureateID` takes part (joined): then `laureateID` may leave, not end the mission.
    public func othersTakePart(besides laureateID: String) -> Bool {
        participants.contains { $0.joined && $0.laureateID != laureateID }
    }

    /// The participants `caller` may know of: an expert learns of an invited laureate only once it joins.
    public func participants(visibleTo caller: Caller) -> [Participant] {
        switch caller.actor(on: self) {
        case .expert, .otherExpert, .anonymous: participants.filter(\.joined)
        case .admin, .sync, .laureate, .otherLaureate: participants
        }
    }

    /// The laureates whose members' steps `caller` sees in the mission's timeline (nil: every step). An expert never
    /// learns of a laureate invited into a pool that has not joined it, nor of one that declined (SPEC §4.7).
    /// Those it may know of, as `participants(visibleTo:)` says; the others read every step.
    public func timelineLaureates(visibleTo caller: Caller) -> Set<String>? {
        switch caller.actor(on: self) {
        case .expert, .otherExpert, .anonymous: Set(participants(visibleTo: caller).map(\.laureateID))
        case .admin, .sync, .laureate, .otherLaureate: nil
        }
    }

    /// Each laureate's share of the quote, in cents: the given shares, or the total split evenly.
    public var shares: [String: Int] {
        Dictionary(uniqueKeysWithValues: participants.map { ($0.laureateID, $0.shareCents ?? 0) })
    }
}

/// Who is calling, before we know how they relate to a given mission.
public enum Caller: Sendable, Hashable {
    case admin
    case expert(id: String)
    case laureate(id: String)
    case sync
    case anonymous

    /// How this caller relates to `mission`.
    public func actor(on mission: Mission) -> MissionActor {
        switch self {
        case .admin: .admin
        case .expert(let id): id == mission.expertID ? .expert : .otherExpert
        case .laureate(let id): mission.laureateIDs.contains(id) ? .laureate : .otherLaureate
        case .sync: .sync
        case .anonymous: .anonymous
        }
    }
}

/// The facts outside a mission that its rules depend on, gathered by the caller (Storage) in the same transaction.
public struct MissionContext: Sendable {
    public var settings: ProgrammeSettings
    public var today: CalendarDate
    /// Laureates that have handed in a framing note.
    public var laureatesWithFramingNote: Set<String>
    public var conflicts: ConflictRegistry
    /// Each participating laureate's ceiling and what its *other* missions commit.
    public var budgets: [String: BudgetLedger]

    public init(
        settings: ProgrammeSettings, today: CalendarDate, laureatesWithFramingNote: Set<String>,
        conflicts: ConflictRegistry, budgets: [String: BudgetLedger]
    ) {
        self.settings = settings
        self.today = today
        self.laureatesWithFramingNote = laureatesWithFramingNote
        self.conflicts = conflicts
        self.budgets = budgets
    }
}

/// A command on a mission with its payload.
public enum MissionCommand: Sendable, Hashable {
    case scope
    /// `shares` in cents per laureate for a pooled mission; nil splits the total evenly.
    case propose(Proposal, shares: [String: Int]?)
    case sendBack(comment: String)
    case accept
    case report(MissionReport)
    case review(SatisfactionReview)
    case decline(reason: String?)
    case cancel(reason: String?)
    case terminate(reason: String)
    case leave
    case join

    public var action: MissionAction {
        switch self {
        case .scope: .scope
        case .propose: .propose
        case .sendBack: .sendBack
        case .accept: .accept
        case .report: .report
        case .review: .review
        case .decline: .decline
        case .cancel: .cancel
        case .terminate: .terminate
        case .leave: .leave
        case .join: .join
        }
    }
}

extension MissionWorkflow {
    /// Opens a mission: a laureate (or several, pooled) solicits an expert they have no conflict with.
    /// `requester` is the laureate whose member asks: it takes part at once, the others are invited and take part only
    /// when one of their members joins. Without a requester (the programme team asks) every laureate takes part.
    public static func request(
        id: String, ref: MissionRef, title: String, subthemeCodes: [String] = [], expertID: String, laureateIDs: [String],
        requester: String? = nil, conflicts: ConflictRegistry
    ) throws(MissionError) -> Mission {
        var errors: [FieldError] = []
        for (index, code) in subthemeCodes.enumerated() where Taxonomy.subtheme(code) == nil {
            errors.append(FieldError("/subthemes/\(index)", "unknown_subtheme", "No subtheme has code \(code)."))
        }
        if title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors.append(FieldError("/title", "required", "A mission has a title."))
        } else if title.count > Mission.maxTitleLength {
            errors.append(FieldError("/title", "too_long", "A title has at most \(Mission.maxTitleLength) characters."))
        }
        if laureateIDs.isEmpty {
            errors.append(FieldError("/laureate_ids", "required", "A mission has at least one laureate."))
        }
        if Set(laureateIDs).count != laureateIDs.count {
            errors.append(FieldError("/laureate_ids", "duplicate", "Each laureate takes part once."))
        }
        if laureateIDs.count > maxParticipants {
            errors.append(FieldError("/laureate_ids", "too_many", "A pooled mission has at most \(maxParticipants) laureates."))
        }
        if let requester, !laureateIDs.contains(requester) {
            errors.append(FieldError("/laureate_ids", "must_include_yours", "A request includes your own laureate."))
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        try conflicts.check(expertID: expertID, laureateIDs: laureateIDs)
        return Mission(
            id: id, ref: ref, title: title, subthemeCodes: subthemeCodes, expertID: expertID,
            participants: laureateIDs.map { Participant(laureateID: $0, joined: requester == nil || $0 == requester) })
    }

    /// Applies `command` by `caller` to `mission`: checks the table, then every rule the step needs,
    /// and returns the mission as it is afterwards. Nothing is changed when it throws.
    public static func apply(
        _ command: MissionCommand, by caller: Caller, to mission: Mission, context: MissionContext
    ) throws(MissionError) -> Mission {
        let actor = caller.actor(on: mission)
        var target = try next(from: mission.state, action: command.action, actor: actor)
        var mission = mission
        if case .laureate(let laureateID) = caller, let own = mission.participants.first(where: { $0.laureateID == laureateID }) {
            switch command.action {
            case .join:
                guard !own.joined else { throw .alreadyDone(laureateID: laureateID, action: .join) }
            case .leave:
                break
            default:
                guard own.joined else { throw .notJoined(laureateID: laureateID) }
            }
        }

        switch command {
        case .scope:
            let pending = mission.pendingLaureateIDs
            guard pending.isEmpty else { throw .invitationsPending(laureateIDs: pending) }
            for laureate in mission.laureateIDs where !context.laureatesWithFramingNote.contains(laureate) {
                throw .framingNoteMissing(laureateID: laureate)
            }
            try context.conflicts.check(expertID: mission.expertID, laureateIDs: mission.laureateIDs)

        case .propose(let proposal, let shares):
            var errors = proposal.diagnostic.errors(at: "/diagnostic", window: context.settings.window)
            // What the programme could pay for this mission: the sum of its laureates' ceilings.
            let payable = Money.saturatingSum(mission.laureateIDs.map { context.budgets[$0]?.ceilingCents ?? 0 })
            errors += proposal.quote.errors(at: "/quote", maxTotalCents: payable)
            if proposal.quote.validUntil < context.today {
                errors.append(FieldError("/quote/valid_until", "in_the_past", "The quote is valid until a later day."))
            }
            guard errors.isEmpty else { throw .invalid(errors) }
            let total = proposal.quote.totalCents
            let laureates = mission.laureateIDs
            let resolved: [Int]
            if let shares {
                guard Set(shares.keys) == Set(laureates) else {
                    throw .invalid([FieldError("/shares", "participants_mismatch", "Give one share to each laureate.")])
                }
                resolved = laureates.map { shares[$0] ?? -1 }
                if let index = resolved.firstIndex(where: { $0 < 0 }) {
                    throw .invalid([
                        FieldError(
                            "/shares", "out_of_range",
                            "The share of laureate \(laureates[index]) is negative: a share is zero or more cents.")
                    ])
                }
                guard Money.sum(resolved) == total else {
                    throw .invalid([
                        FieldError("/shares", "shares_do_not_sum", "The shares add up to the quote total, \(total) cents.")
                    ])
                }
            } else {
                resolved = Money.split(total, weights: laureates.map { _ in 1 })
            }
            // A share above its laureate's own ceiling could never be accepted: refused when it is sent.
            for (laureate, share) in zip(laureates, resolved) where share > (context.budgets[laureate]?.ceilingCents ?? 0) {
                throw .invalid([
                    FieldError(
                        "/shares", "above_ceiling",
                        "The share of laureate \(laureate), \(Money.formatted(share)), is above its support ceiling.")
                ])
            }
            // An expert who declared an interest in one of the laureates cannot quote for it either.
            try context.conflicts.check(expertID: mission.expertID, laureateIDs: laureates)
            for index in mission.participants.indices {
                mission.participants[index].shareCents = resolved[index]
                mission.participants[index].acceptedOn = nil
            }
            mission.proposal = proposal

        case .sendBack(let comment):
            guard !comment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .reasonRequired }
            for index in mission.participants.indices { mission.participants[index].acceptedOn = nil }
            mission.lastComment = comment

        case .accept:
            guard case .laureate(let laureateID) = caller,
                let index = mission.participants.firstIndex(where: { $0.laureateID == laureateID })
            else { throw .transitionNotAllowed(from: mission.state, action: .accept, actor: actor) }
            guard mission.participants[index].acceptedOn == nil else {
                throw .alreadyDone(laureateID: laureateID, action: .accept)
            }
            guard context.settings.window.contains(context.today) else {
                throw .outsideWindow(date: context.today, window: context.settings.window)
            }
            guard let proposal = mission.proposal else { throw .transitionNotAllowed(from: mission.state, action: .accept, actor: actor) }
            guard context.today <= proposal.quote.validUntil else { throw .quoteExpired(validUntil: proposal.quote.validUntil) }
            try context.conflicts.check(expertID: mission.expertID, laureateIDs: [laureateID])
            let share = mission.participants[index].shareCents ?? proposal.quote.totalCents
            let ledger = context.budgets[laureateID] ?? BudgetLedger(ceilingCents: 0, committedCents: 0)
            guard ledger.allows(share) else {
                throw .budgetExceeded(laureateID: laureateID, requestedCents: share, remainingCents: ledger.remainingCents)
            }
            mission.participants[index].acceptedOn = context.today
            if mission.participants.contains(where: { $0.acceptedOn == nil }) { target = mission.state }

        case .report(let report):
            // Pointers into the transition's body, where the report is the member `report`.
            let errors = report.errors(at: "/report")
            guard errors.isEmpty else { throw .invalid(errors) }
            mission.report = report

        case .review(let review):
            let errors = review.errors(at: "/review")
            guard errors.isEmpty else { throw .invalid(errors) }
            guard case .laureate(let laureateID) = caller,
                let index = mission.participants.firstIndex(where: { $0.laureateID == laureateID })
            else { throw .transitionNotAllowed(from: mission.state, action: .review, actor: actor) }
            guard mission.participants[index].reviewedOn == nil else {
                throw .alreadyDone(laureateID: laureateID, action: .review)
            }
            mission.participants[index].reviewedOn = context.today
            mission.participants[index].review = review
            if mission.participants.contains(where: { $0.reviewedOn == nil }) { target = mission.state }

        case .decline(let reason), .cancel(let reason):
            if case .laureate(let laureateID) = caller, mission.othersTakePart(besides: laureateID) {
                throw .othersTakePart(laureateID: laureateID)
            }
            mission.lastComment = reason

        case .terminate(let reason):
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .reasonRequired }
            mission.lastComment = reason

        case .leave:
            guard case .laureate(let laureateID) = caller else {
                throw .transitionNotAllowed(from: mission.state, action: .leave, actor: actor)
            }
            guard mission.isPooled else { throw .notPooled }
            let wasInvited = mission.participants.contains { $0.laureateID == laureateID && !$0.joined }
            mission.participants.removeAll { $0.laureateID == laureateID }
            // The last invited laureate declined and the requester is left alone: the pooled request ends.
            if wasInvited && mission.pendingLaureateIDs.isEmpty && mission.participants.count == 1 {
                target = .cancelled
                mission.lastComment = "Toutes les manufactures invitées ont décliné la mission mutualisée."
            }
            // The last laureate taking part left while the others were only invited: nobody is left to ask.
            if !wasInvited && mission.joinedLaureateIDs.isEmpty {
                target = .cancelled
                mission.lastComment = "La dernière manufacture participant à la mission mutualisée s'est retirée."
            }
            if mission.state == .proposed {
                for index in mission.participants.indices {
                    mission.participants[index].shareCents = nil
                    mission.participants[index].acceptedOn = nil
                }
            }

        case .join:
            guard case .laureate(let laureateID) = caller,
                let index = mission.participants.firstIndex(where: { $0.laureateID == laureateID })
            else { throw .transitionNotAllowed(from: mission.state, action: .join, actor: actor) }
            try context.conflicts.check(expertID: mission.expertID, laureateIDs: [laureateID])
            mission.participants[index].joined = true
        }
        mission.state = target
        return mission
    }
}

/// A stable, human-readable mission reference: the year it was requested and a sequence number, "2023-0042".
public struct MissionRef: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public let year: Int
    public let sequence: Int

    public init?(year: Int, sequence: Int) {
        guard (2000...9999).contains(year), (1...999_999).contains(sequence) else { return nil }
        self.year = year
        self.sequence = sequence
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, (4...6).contains(parts[1].count),
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let sequence = Int(parts[1])
        else { return nil }
        self.init(year: year, sequence: sequence)
        guard description == text else { return nil }
    }

    public var description: String {
        let digits = String(sequence)
        return "\(year)-\(String(repeating: "0", count: max(0, 4 - digits.count)))\(digits)"
    }

    public static func < (lhs: MissionRef, rhs: MissionRef) -> Bool { (lhs.year, lhs.sequence) < (rhs.year, rhs.sequence) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let ref = MissionRef(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a mission reference"))
        }
        self = ref
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
