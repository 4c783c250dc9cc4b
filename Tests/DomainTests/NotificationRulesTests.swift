import Domain
import Foundation
import Testing

@Suite("Who is told what")
struct NotificationRulesTests {
    static let mission = Mission(
        id: "M1", ref: MissionRef(year: 2023, sequence: 1)!, title: "Modèle économique", expertID: "E1",
        participants: [Participant(laureateID: "L1"), Participant(laureateID: "L2")], state: .proposed, proposal: proposal())

    /// Every step as the table says: who acts, the state it leads to, and who is told.
    static let table: [(MissionAction, Caller, MissionState, NoticeKind?, [Recipient])] = [
        (.scope, .expert(id: "E1"), .proposed, nil, []),
        (.propose, .expert(id: "E1"), .proposed, .proposalReceived, [.laureate(id: "L1"), .laureate(id: "L2"), .team]),
        (.sendBack, .laureate(id: "L1"), .scoping, .proposalSentBack, [.expert(id: "E1")]),
        (.accept, .laureate(id: "L1"), .accepted, .proposalAccepted, [.expert(id: "E1"), .team]),
        // In a pool, one validation of two accepts nothing yet: nobody is told the mission is engaged.
        (.accept, .laureate(id: "L1"), .proposed, nil, []),
        (.report, .expert(id: "E1"), .reported, .reportDelivered, [.laureate(id: "L1"), .laureate(id: "L2"), .team]),
        (.review, .laureate(id: "L2"), .reported, .reviewReceived, [.team]),
        (.decline, .expert(id: "E1"), .declined, .missionEnded, [.laureate(id: "L1"), .laureate(id: "L2"), .team]),
        // A laureate that cancels is not told of its own step; the other laureate is.
        (.cancel, .laureate(id: "L1"), .cancelled, .missionEnded, [.expert(id: "E1"), .laureate(id: "L2"), .team]),
        (.cancel, .admin, .cancelled, .missionEnded, [.expert(id: "E1"), .laureate(id: "L1"), .laureate(id: "L2")]),
        (.terminate, .admin, .terminated, .missionEnded, [.expert(id: "E1"), .laureate(id: "L1"), .laureate(id: "L2")]),
        (.join, .laureate(id: "L2"), .requested, nil, []),
    ]

    @Test(arguments: table.indices)
    func eachStepTellsWhoeverMustActNextAndTheTeamWhatEngagesMoney(_ index: Int) {
        let (action, caller, state, kind, recipients) = Self.table[index]
        var after = Self.mission
        after.state = state
        let notices = NotificationRules.notices(of: action, by: caller, before: Self.mission, after: after)
        #expect(notices.map(\.kind) == (kind.map { [$0] } ?? []), "\(action) by \(caller)")
        #expect(notices.first?.recipients ?? [] == recipients.sorted(), "\(action) by \(caller)")
        #expect(notices.allSatisfy { $0.subjectID == "M1" && !$0.kind.isReminder })
    }

    @Test func theLastInviteeDecliningAPoolWhoseRequesterLeftEndsItForEveryone() {
        var before = Self.mission
        before.state = .requested
        before.participants = [Participant(laureateID: "L2", joined: false)]
        var after = before
        after.participants = []
        after.state = .cancelled
        let notices = NotificationRules.notices(of: .leave, by: .laureate(id: "L2"), before: before, after: after)
        #expect(notices.map(\.kind) == [.missionEnded] && notices.first?.recipients == [.expert(id: "E1"), .team])
    }

    /// An invitation that ends with the request (its requester cancels or leaves) is said to the invited laureates too:
    /// they were asked to join something that no longer exists.
    @Test(arguments: [MissionAction.cancel, .leave])
    func aPoolEndedBeforeItsInviteesAnsweredTellsThemToo(_ action: MissionAction) {
        var before = Self.mission
        before.state = .requested
        before.participants = [Participant(laureateID: "L1"), Participant(laureateID: "L2", joined: false)]
        var after = before
        after.state = .cancelled
        if action == .leave { after.participants = [Participant(laureateID: "L2", joined: false)] }
        let notices = NotificationRules.notices(of: action, by: .laureate(id: "L1"), before: before, after: after)
        #expect(notices.map(\.kind) == [.missionEnded])
        #expect(notices.first?.recipients == [.expert(id: "E1"), .laureate(id: "L2"), .team])
    }

    @Test func aRequestSolicitsTheExpertAndInvitesTheOtherLaureatesOfAPool() {
        var requested = Self.mission
        requested.state = .requested
        requested.participants = [Participant(laureateID: "L1"), Participant(laureateID: "L2", joined: false)]
        let notices = NotificationRules.notices(of: nil, by: .laureate(id: "L1"), before: nil, after: requested)
        #expect(notices.map(\.kind) == [.missionRequested, .invitedToPool])
        #expect(notices.map(\.recipients) == [[.expert(id: "E1")], [.laureate(id: "L2")]])
    }

    @Test func aLaureateLeavingAPoolTellsTheExpertAndTheOthersButDecliningAnInvitationOnlyTheTeam() {
        var after = Self.mission
        after.participants = [Participant(laureateID: "L1")]
        let left = NotificationRules.notices(of: .leave, by: .laureate(id: "L2"), before: Self.mission, after: after)
        #expect(left.first?.recipients == [.expert(id: "E1"), .laureate(id: "L1"), .team])
        var invited = Self.mission
        invited.participants = [Participant(laureateID: "L1"), Participant(laureateID: "L2", joined: false)]
        let declined = NotificationRules.notices(of: .leave, by: .laureate(id: "L2"), before: invited, after: after)
        #expect(declined.first?.recipients == [.team])
    }

    @Test func aCardSubmittedAgainWithinADayIsNotAnnouncedAgain() {
        let announced = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(NotificationRules.notices(ofCard: .submit, expertID: "E9", lastAnnounced: announced, now: announced + 3_600).isEmpty)
        #expect(NotificationRules.notices(ofCard: .submit, expertID: "E9", lastAnnounced: announced, now: announced + 86_400).count == 1)
    }

    @Test func onlyASubmittedCardIsSentToTheTeam() {
        for action in CardAction.allCases {
            let notices = NotificationRules.notices(ofCard: action, expertID: "E9")
            #expect(notices.map(\.recipients) == (action == .submit ? [[.team]] : []), "\(action)")
        }
    }

    @Test func remindersGoToWhoHasNotActedOnceTheProgrammesDelayHasPassed() throws {
        let settings = ReminderSettings(proposalUnansweredDays: 14, reportMissingDaysAfterEnd: 30, reviewMissingDaysAfterReport: 30)
        var proposed = Self.mission
        proposed.participants[0].acceptedOn = day("2023-06-02")
        let since = day("2023-06-01")
        #expect(NotificationRules.reminders(for: proposed, since: since, today: day("2023-06-14"), settings: settings).isEmpty)
        let waiting = NotificationRules.reminders(for: proposed, since: since, today: day("2023-06-15"), settings: settings)
        #expect(waiting.map(\.kind) == [.proposalWaiting] && waiting.first?.recipients == [.laureate(id: "L2")])
        // The planned end is 2023-09-30 (the fixture's schedule): 30 days later the report is overdue.
        var accepted = Self.mission
        accepted.state = .accepted
        #expect(NotificationRules.reminders(for: accepted, since: since, today: day("2023-10-29"), settings: settings).isEmpty)
        let overdue = NotificationRules.reminders(for: accepted, since: since, today: day("2023-10-30"), settings: settings)
        #expect(overdue.map(\.kind) == [.reportOverdue] && overdue.first?.recipients == [.expert(id: "E1")])
        var reported = Self.mission
        reported.state = .reported
        reported.participants[1].reviewedOn = day("2023-10-01")
        let review = NotificationRules.reminders(for: reported, since: day("2023-10-01"), today: day("2023-10-31"), settings: settings)
        #expect(review.map(\.kind) == [.reviewOverdue] && review.first?.recipients == [.laureate(id: "L1")])
        // Another programme sets other delays.
        let patient = ReminderSettings(proposalUnansweredDays: 30)
        #expect(NotificationRules.reminders(for: proposed, since: since, today: day("2023-06-15"), settings: patient).isEmpty)
        #expect(NoticeKind.allCases.filter(\.isReminder) == [.proposalWaiting, .reportOverdue, .reviewOverdue])
    }

    @Test func daysAreCountedAcrossMonthsYearsAndLeapDays() {
        #expect(day("2024-03-01").daysSince(day("2024-02-28")) == 2)
        #expect(day("2023-03-01").daysSince(day("2023-02-28")) == 1)
        #expect(day("2024-01-01").daysSince(day("2023-12-31")) == 1)
        #expect(day("2023-01-01").daysSince(day("2024-01-01")) == -365)
        #expect(day("9999-12-31").daysSince(day("0001-01-01")) == 3_652_058)
    }
}

@Suite("Delivery retries")
struct DeliveryRulesTests {
    @Test func theWaitDoublesFromThirtySecondsUpToSixHoursWithJitterInItsUpperHalf() {
        #expect(DeliveryRules.retryDelay(afterFailures: 1, jitter: 0) == 15)
        #expect(DeliveryRules.retryDelay(afterFailures: 1, jitter: 1) == 30)
        #expect(DeliveryRules.retryDelay(afterFailures: 3, jitter: 1) == 120)
        #expect(DeliveryRules.retryDelay(afterFailures: 40, jitter: 1) == 6 * 3_600)
        #expect(DeliveryRules.retryDelay(afterFailures: Int.max, jitter: .nan) == 3 * 3_600)
        #expect(DeliveryRules.retryDelay(afterFailures: 0, jitter: -5) == 15)
    }

    @Test func aMessageIsTriedForThreeDaysThenGivenUp() {
        let queued = Date(timeIntervalSince1970: 1_700_000_000)
        var now = queued
        var failures = 0
        while let next = DeliveryRules.nextAttempt(queued: queued, failures: failures + 1, now: now, jitter: 0.5) {
            failures += 1
            now = next
        }
        #expect(now.timeIntervalSince(queued) <= 3 * 86_400 && now.timeIntervalSince(queued) > 2.5 * 86_400)
        #expect((12...30).contains(failures))
    }
}
