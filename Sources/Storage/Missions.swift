import Domain
import Foundation
import GRDB

/// A mission as stored, with its revision (the base of its ETag).
public struct MissionRecord: Sendable, Hashable, Codable {
    public let mission: Mission
    public let revision: Int64
    public let createdAt: Date
    public let updatedAt: Date
    /// Who the expert is, with the contact its laureates may see in the mission's state.
    public let expert: ExpertContact
    /// The laureates of its participants, by id (the API shows their public profile only).
    public let laureates: [String: Laureate]
}

/// A laureate's envelope: its ceiling, what accepted missions commit, what closed ones spent.
public struct BudgetView: Sendable, Hashable {
    public struct Line: Sendable, Hashable {
        public let missionID: String
        public let ref: String
        public let title: String
        public let state: MissionState
        public let shareCents: Int
        /// This laureate validated its share (a held share while the mission is still proposed).
        public let validated: Bool

        var commitment: BudgetLedger.Commitment { .init(state: state, shareCents: shareCents, validated: validated) }
    }

    public let laureateID: String
    public let ceilingCents: Int
    /// Accepted missions and held shares together: what the ceiling is measured against.
    public let committedCents: Int
    /// The part of `committedCents` held by pooled proposals this laureate validated while others have not yet.
    public let heldCents: Int
    public let spentCents: Int
    public var remainingCents: Int { ceilingCents - committedCents }
    public let lines: [Line]
}

extension Caller {
    /// How an account calls (public: the API maps accounts the same way).
    public init(account: Account) { self.init(account) }

    /// How an account calls, before its relation to a mission is known.
    init(_ account: Account) {
        switch account.role {
        case .admin: self = .admin
        case .expert: self = account.expertID.map { .expert(id: $0) } ?? .anonymous
        case .laureate: self = account.laureateID.map { .laureate(id: $0) } ?? .anonymous
        case .sync: self = .sync
        }
    }
}

extension AppDatabase {
    static func missionRecord(_ db: SQLConnection, id: String) throws -> MissionRecord {
        guard let record = try missionRecords(db, ids: [id]).first else { throw StorageError.notFound }
        return record
    }

    /// Missions by id, in the order given, with two queries whatever their number (missions, then participants).
    static func missionRecords(_ db: SQLConnection, ids: [String]) throws -> [MissionRecord] {
        guard !ids.isEmpty else { return [] }
        let list = try json(ids)
        let decoder = JSONDecoder()
        var participants: [String: [Participant]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT * FROM mission_participant WHERE mission_id IN (SELECT value FROM json_each(?)) ORDER BY mission_id, position",
            arguments: [list])
        {
            participants[row["mission_id"], default: []].append(
                Participant(
                    laureateID: row["laureate_id"], shareCents: row["share_cents"],
                    acceptedOn: (row["accepted_on"] as String?).flatMap(CalendarDate.init(iso:)),
                    reviewedOn: (row["reviewed_on"] as String?).flatMap(CalendarDate.init(iso:)),
                    review: try (row["review"] as String?).map { try decoder.decode(SatisfactionReview.self, from: Data($0.utf8)) },
                    joined: row["joined"]))
        }
        var cards: [String: ExpertCardContent] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT id, content FROM expert WHERE id IN (SELECT expert_id FROM mission WHERE id IN (SELECT value FROM json_each(?)))",
            arguments: [list])
        {
            cards[row["id"]] = try decoder.decode(ExpertCardContent.self, from: Data((row["content"] as String).utf8))
        }
        var laureates: [String: Laureate] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM laureate WHERE id IN
                  (SELECT laureate_id FROM mission_participant WHERE mission_id IN (SELECT value FROM json_each(?)))
                """, arguments: [list])
        {
            let laureate = try laureate(from: row)
            laureates[laureate.id] = laureate
        }
        var byID: [String: MissionRecord] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM mission WHERE id IN (SELECT value FROM json_each(?))", arguments: [list]) {
            let id: String = row["id"]
            guard let ref = MissionRef(row["ref"] as String) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "mission \(id) has an unreadable reference")
            }
            let mission = Mission(
                id: id, ref: ref, title: row["title"],
                subthemeCodes: try decoder.decode([String].self, from: Data((row["subthemes"] as String).utf8)), expertID: row["expert_id"],
                participants: participants[id] ?? [], state: MissionState(rawValue: row["state"]) ?? .requested,
                proposal: try (row["proposal"] as String?).map { try decoder.decode(Proposal.self, from: Data($0.utf8)) },
                report: try (row["report"] as String?).map { try decoder.decode(MissionReport.self, from: Data($0.utf8)) },
                lastComment: row["last_comment"])
            guard let card = cards[mission.expertID] else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "mission \(id) names an expert without a card")
            }
            byID[id] = MissionRecord(
                mission: mission, revision: row["revision"], createdAt: row["created_at"], updatedAt: row["updated_at"],
                expert: ExpertContact(expertID: mission.expertID, card: card, fullContact: ExpertContact.isShared(in: mission.state)),
                laureates: laureates.filter { entry in mission.participants.contains { $0.laureateID == entry.key } })
        }
        return ids.compactMap { byID[$0] }
    }

    static func json(_ value: (some Encodable)?) throws -> String? {
        guard let value else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Who may know a mission exists: the programme team, the sync service, its expert and its laureates' members.
    static func canSee(_ mission: Mission, _ account: Account) -> Bool {
        switch Caller(account).actor(on: mission) {
        case .admin, .expert, .laureate, .sync: true
        case .otherExpert, .otherLaureate, .anonymous: false
        }
    }

    /// A laureate member solicits an expert (with other laureates for a pooled mission).
    public func requestMission(
        title: String, subthemeCodes: [String] = [], expertID: String, laureateIDs: [String], by account: Account
    ) throws -> MissionRecord {
        guard account.role == .laureate || account.role == .admin else { throw StorageError.forbidden }
        let requester = account.role == .laureate ? account.laureateID : nil
        if account.role == .laureate && requester == nil { throw StorageError.forbidden }
        let today = calendarToday
        return try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT state = 'published' FROM expert WHERE id = ?", arguments: [expertID]) == true else {
                throw StorageError.invalid([FieldError("/expert_id", "unknown_expert", "No published expert has this id.")])
            }
            for (index, laureate) in laureateIDs.enumerated()
            where try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM laureate WHERE id = ?)", arguments: [laureate]) != true {
                throw StorageError.invalid([FieldError("/laureate_ids/\(index)", "unknown_laureate", "No laureate has this id.")])
            }
            let counter = "mission-\(today.year)"
            try db.execute(sql: "INSERT INTO counter (name, value) VALUES (?, 0) ON CONFLICT DO NOTHING", arguments: [counter])
            let sequence =
                try Int.fetchOne(
                    db, sql: "UPDATE counter SET value = value + 1 WHERE name = ? RETURNING value", arguments: [counter]) ?? 0
            let mission: Mission
            let conflicts = try Self.conflicts(db, expertID: expertID)
            guard let ref = MissionRef(year: today.year, sequence: sequence) else {
                // A million requests in a year: refused rather than numbered twice or trapped.
                throw StorageError.invalid([FieldError("", "too_many_missions", "No mission reference is left for \(today.year).")])
            }
            let id = Self.newID()
            do throws(MissionError) {
                mission = try MissionWorkflow.request(
                    id: id, ref: ref, title: title, subthemeCodes: subthemeCodes, expertID: expertID, laureateIDs: laureateIDs,
                    requester: requester, conflicts: conflicts)
            } catch {
                throw StorageError.mission(error)
            }
            let now = self.now
            try db.execute(
                sql: """
                    INSERT INTO mission (id, ref, title, subthemes, expert_id, state, requested_by, revision, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    mission.id, mission.ref.description, mission.title, try Self.json(mission.subthemeCodes), expertID,
                    mission.state.rawValue, account.id,
                    try Self.nextRevision(db), now, now,
                ])
            for (position, participant) in mission.participants.enumerated() {
                try db.execute(
                    sql: "INSERT INTO mission_participant (mission_id, laureate_id, position, joined) VALUES (?, ?, ?, ?)",
                    arguments: [mission.id, participant.laureateID, position, participant.joined])
            }
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "mission.requested", subjectType: "mission", subjectID: mission.id,
                before: Mission?.none, after: mission)
            try Self.enqueue(
                NotificationRules.notices(of: nil, by: Caller(account), before: nil, after: mission), db, at: now)
            return try Self.missionRecord(db, id: mission.id)
        }
    }

    /// A mission, for those who may know it exists.
    public func mission(id: String, for account: Account) throws -> MissionRecord {
        try engine.read { db in
            let record = try Self.missionRecord(db, id: id)
            guard Self.canSee(record.mission, account) else { throw StorageError.notFound }
            return record
        }
    }

    /// Applies a command to a mission in one transaction: the Domain decides with the facts read in the same
    /// transaction (framing notes, conflicts, budgets), so two acceptances racing for the last euros cannot both win.
    public func transitionMission(id: String, command: MissionCommand, by account: Account, ifRevision expected: Int64?) throws
        -> MissionRecord
    {
        let today = calendarToday
        return try write { db in
            let record = try Self.missionRecord(db, id: id)
            guard Self.canSee(record.mission, account) else { throw StorageError.notFound }
            if let expected, record.revision != expected { throw StorageError.stale(current: record.revision) }
            let laureates = record.mission.laureateIDs
            var budgets: [String: BudgetLedger] = [:]
            for laureate in laureates {
                let ceiling =
                    try Int.fetchOne(db, sql: "SELECT support_ceiling_cents FROM laureate WHERE id = ?", arguments: [laureate]) ?? 0
                budgets[laureate] = BudgetLedger(
                    ceilingCents: ceiling, committedCents: try Self.committed(db, laureateID: laureate, excluding: id))
            }
            let withNotes = Set(
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT laureate_id FROM framing_note WHERE laureate_id IN (SELECT value FROM json_each(?))",
                    arguments: [try Self.json(laureates)]))
            let context = MissionContext(
                settings: settings, today: today, laureatesWithFramingNote: withNotes,
                conflicts: try Self.conflicts(db, expertID: record.mission.expertID), budgets: budgets)
            let after: Mission
            do throws(MissionError) {
                after = try MissionWorkflow.apply(command, by: Caller(account), to: record.mission, context: context)
            } catch {
                throw StorageError.mission(error)
            }
            let now = self.now
            try db.execute(
                sql: "UPDATE mission SET state = ?, proposal = ?, report = ?, last_comment = ?, revision = ?, updated_at = ? WHERE id = ?",
                arguments: [
                    after.state.rawValue, try Self.json(after.proposal), try Self.json(after.report), after.lastComment,
                    try Self.nextRevision(db), now, id,
                ])
            for left in record.mission.laureateIDs where !after.laureateIDs.contains(left) {
                try db.execute(sql: "DELETE FROM mission_participant WHERE mission_id = ? AND laureate_id = ?", arguments: [id, left])
                try db.execute(
                    sql: """
                        INSERT INTO mission_tombstone (mission_id, laureate_id, revision) VALUES (?, ?, (SELECT revision FROM mission WHERE id = ?))
                        ON CONFLICT (mission_id, laureate_id) DO UPDATE SET revision = excluded.revision
                        """,
                    arguments: [id, left, id])
            }
            for participant in after.participants {
                try db.execute(
                    sql: """
                        UPDATE mission_participant SET share_cents = ?, accepted_on = ?, reviewed_on = ?, review = ?, joined = ?
                        WHERE mission_id = ? AND laureate_id = ?
                        """,
                    arguments: [
                        participant.shareCents, participant.acceptedOn?.iso, participant.reviewedOn?.iso, try Self.json(participant.review),
                        participant.joined, id,
                        participant.laureateID,
                    ])
            }
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "mission.\(command.action.rawValue)", subjectType: "mission", subjectID: id,
                before: record.mission, after: after)
            try Self.enqueue(
                NotificationRules.notices(of: command.action, by: Caller(account), before: record.mission, after: after),
                db, at: now)
            return try Self.missionRecord(db, id: id)
        }
    }

    /// What a laureate's missions commit or hold against its ceiling, leaving one mission out.
    static func committed(_ db: SQLConnection, laureateID: String, excluding missionID: String? = nil) throws -> Int {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT mission.state, coalesce(p.share_cents, 0) AS share, p.accepted_on IS NOT NULL AS validated
                FROM mission_participant p JOIN mission ON mission.id = p.mission_id
                WHERE p.laureate_id = ? AND p.joined = 1 AND mission.id IS DISTINCT FROM ?
                """, arguments: [laureateID, missionID])
        return BudgetLedger.committed(
            rows.map {
                .init(state: MissionState(rawValue: $0["state"]) ?? .requested, shareCents: $0["share"], validated: $0["validated"])
            })
    }

    /// A laureate's budget, for its members and the programme team.
    public func budget(laureateID: String, for account: Account) throws -> BudgetView {
        guard account.role == .admin || account.laureateID == laureateID else {
            throw account.role == .sync ? StorageError.forbidden : StorageError.notFound
        }
        return try engine.read { db in
            guard
                let ceiling = try Int.fetchOne(db, sql: "SELECT support_ceiling_cents FROM laureate WHERE id = ?", arguments: [laureateID])
            else {
                throw StorageError.notFound
            }
            let lines = try Row.fetchAll(
                db,
                sql: """
                    SELECT mission.id, mission.ref, mission.title, mission.state, coalesce(p.share_cents, 0) AS share,
                           p.accepted_on IS NOT NULL AS validated
                    FROM mission_participant p JOIN mission ON mission.id = p.mission_id
                    WHERE p.laureate_id = ? AND p.joined = 1 ORDER BY mission.ref
                    """, arguments: [laureateID]
            ).map {
                BudgetView.Line(
                    missionID: $0["id"], ref: $0["ref"], title: $0["title"], state: MissionState(rawValue: $0["state"]) ?? .requested,
                    shareCents: $0["share"], validated: $0["validated"])
            }
            let commitments = lines.map(\.commitment)
            return BudgetView(
                laureateID: laureateID, ceilingCents: ceiling, committedCents: BudgetLedger.committed(commitments),
                heldCents: BudgetLedger.held(commitments),
                spentCents: Money.saturatingSum(lines.filter { $0.state == .closed }.map(\.shareCents)), lines: lines)
        }
    }

    /// The caller's missions changed after `revision`, oldest change first: the delta an offline client applies.
    /// `removed` lists the missions the caller could see and no longer can, changed after `revision` (tombstones).
    public func missions(for account: Account, updatedAfter revision: Int64, limit: Int) throws -> (
        missions: [MissionRecord], next: Int64?, removed: [String]
    ) {
        try engine.read { db in
            let filter: String
            let argument: String?
            switch account.role {
            case .admin, .sync:
                (filter, argument) = ("1 = 1 OR CAST(? AS TEXT) IS NULL", nil)
            case .expert:
                (filter, argument) = ("expert_id = ?", account.expertID)
            case .laureate:
                (filter, argument) = ("id IN (SELECT mission_id FROM mission_participant WHERE laureate_id = ?)", account.laureateID)
            }
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM mission WHERE (\(filter)) AND revision > ? ORDER BY revision LIMIT ?",
                arguments: [argument, revision, limit + 1])
            let records = try Self.missionRecords(db, ids: Array(ids.prefix(limit)))
            let removed =
                account.role == .laureate
                ? try String.fetchAll(
                    db, sql: "SELECT mission_id FROM mission_tombstone WHERE laureate_id = ? AND revision > ? ORDER BY revision",
                    arguments: [account.laureateID, revision]) : []
            return (records, ids.count > limit ? records.last?.revision : nil, removed)
        }
    }

    var calendarToday: CalendarDate { Self.calendarDay(of: now) }

    /// The programme's day (in Paris) of a moment.
    static func calendarDay(of date: Date) -> CalendarDate {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "Europe/Paris")!, from: date)
        let (year, month, day) = (parts.year ?? 1, parts.month ?? 1, parts.day ?? 1)
        // A moment read from the database outside years 1–9999 (a broken row) is held to the nearest end, never trapped.
        return CalendarDate(year, month, day) ?? (year < 1 ? CalendarDate.earliest : CalendarDate.latest)
    }
}
