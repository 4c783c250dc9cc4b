import Domain
import Foundation
import GRDB

extension AppDatabase {
    static func laureate(from row: Row) throws -> Laureate {
        let types = try JSONDecoder().decode([String].self, from: Data((row["territory_types"] as String).utf8))
        let sectors = try JSONDecoder().decode([String].self, from: Data((row["sectors"] as String).utf8))
        return Laureate(
            id: row["id"], name: row["name"], slug: row["slug"], legalEntity: row["legal_entity"], siret: row["siret"],
            communeINSEE: row["commune_insee"], communeName: row["commune_name"], departmentCode: row["department_code"],
            territoryTypes: Set(types.compactMap(TerritoryType.init)), cohort: row["cohort"], sectors: sectors,
            supportCeilingCents: row["support_ceiling_cents"])
    }

    /// A laureate by id.
    public func laureate(id: String) throws -> Laureate {
        try engine.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM laureate WHERE id = ?", arguments: [id]) else {
                throw StorageError.notFound
            }
            return try Self.laureate(from: row)
        }
    }

    /// Every laureate, by name.
    public func laureates() throws -> [Laureate] {
        try engine.read { db in try Row.fetchAll(db, sql: "SELECT * FROM laureate ORDER BY name, id").map(Self.laureate) }
    }

    /// Whether `account` may see `laureateID` at all: the team, its members, and experts engaged with it.
    func canSeeLaureate(_ db: SQLConnection, _ account: Account, _ laureateID: String) throws -> Bool {
        switch account.role {
        case .admin, .sync: return true
        case .laureate: return account.laureateID == laureateID
        case .expert:
            guard let expertID = account.expertID else { return false }
            return DossierAccess.of(expertID: expertID, to: laureateID, through: try Self.engagements(db, laureateID: laureateID)).canRead
        }
    }

    static func engagements(_ db: SQLConnection, laureateID: String) throws -> [Engagement] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT mission.id, mission.title, mission.expert_id, mission.state,
                       (SELECT json_group_array(laureate_id) FROM mission_participant p WHERE p.mission_id = mission.id AND p.joined = 1) AS laureates
                FROM mission JOIN mission_participant ON mission_participant.mission_id = mission.id
                WHERE mission_participant.laureate_id = ? AND mission_participant.joined = 1
                """, arguments: [laureateID]
        ).map { row in
            Engagement(
                missionID: row["id"], title: row["title"], expertID: row["expert_id"],
                laureateIDs: try JSONDecoder().decode([String].self, from: Data((row["laureates"] as String).utf8)),
                state: MissionState(rawValue: row["state"]) ?? .requested)
        }
    }

    // MARK: Framing notes

    /// A new version of a laureate's framing note, by one of its members or the programme team, with the time it was
    /// recorded (the programme's clock, like every other time).
    @discardableResult
    public func reviseFramingNote(laureateID: String, needs: [Need], documentID: String? = nil, by account: Account) throws
        -> (note: FramingNoteVersion, createdAt: Date)
    {
        guard account.role == .admin || account.laureateID == laureateID else {
            throw account.role == .laureate || account.role == .expert ? StorageError.notFound : StorageError.forbidden
        }
        return try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM laureate WHERE id = ?)", arguments: [laureateID]) == true else {
                throw StorageError.notFound
            }
            if let documentID,
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM document WHERE id = ? AND laureate_id = ? AND kind = 'framing_note')",
                    arguments: [documentID, laureateID]) != true
            {
                throw StorageError.invalid([
                    FieldError("/document_id", "unknown_document", "No framing-note document of this laureate has this id.")
                ])
            }
            let latest = try Self.framingNotes(db, laureateID: laureateID).last?.note
            let note: FramingNoteVersion
            do throws(ValidationFailure) {
                note = try FramingNoteVersion.revise(latest, laureateID: laureateID, needs: needs, documentID: documentID)
            } catch {
                throw StorageError.invalid(error.errors)
            }
            let now = self.now
            try db.execute(
                sql: """
                    INSERT INTO framing_note (laureate_id, version, needs, document_id, author_id, revision, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    laureateID, note.version, String(decoding: try JSONEncoder().encode(needs), as: UTF8.self), documentID, account.id,
                    try Self.nextRevision(db), now,
                ])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "framing_note.revised", subjectType: "laureate", subjectID: laureateID,
                before: latest, after: note)
            return (note, now)
        }
    }

    static func framingNotes(_ db: SQLConnection, laureateID: String) throws -> [(
        note: FramingNoteVersion, createdAt: Date, authorID: String
    )] {
        try Row.fetchAll(db, sql: "SELECT * FROM framing_note WHERE laureate_id = ? ORDER BY version", arguments: [laureateID]).map { row in
            let needs = try JSONDecoder().decode([Need].self, from: Data((row["needs"] as String).utf8))
            return (
                FramingNoteVersion(laureateID: laureateID, version: row["version"], needs: needs, documentID: row["document_id"]),
                row["created_at"], row["author_id"]
            )
        }
    }

    /// Every version of a laureate's framing note, oldest first, for whoever may see the laureate's dossier.
    public func framingNotes(laureateID: String, for account: Account) throws -> [(
        note: FramingNoteVersion, createdAt: Date, authorID: String
    )] {
        try engine.read { db in
            guard try canSeeLaureate(db, account, laureateID) else { throw StorageError.notFound }
            return try Self.framingNotes(db, laureateID: laureateID)
        }
    }

    // MARK: Conflicts

    /// The programme team records that an expert has an interest in a laureate: the pair can never work together.
    public func recordConflict(expertID: String, laureateID: String, reason: String, by account: Account) throws {
        guard account.role == .admin else { throw StorageError.forbidden }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StorageError.invalid([FieldError("/reason", "required", "Say what the interest is.")])
        }
        try write { db in
            for (table, id, pointer) in [("expert", expertID, "/expert_id"), ("laureate", laureateID, "/laureate_id")] {
                guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE id = ?)", arguments: [id]) == true else {
                    throw StorageError.invalid([FieldError(pointer, "unknown", "No \(table) has this id.")])
                }
            }
            try db.execute(
                sql:
                    "INSERT INTO conflict (expert_id, laureate_id, reason, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [expertID, laureateID, reason, account.id, now])
            if db.changesCount == 1 {
                try Self.appendEvent(
                    db, at: now, actorID: account.id, action: "conflict.recorded", subjectType: "expert", subjectID: expertID,
                    before: String?.none, after: ["laureate_id": laureateID, "reason": reason])
            }
        }
    }

    static func conflicts(_ db: SQLConnection, expertID: String) throws -> ConflictRegistry {
        ConflictRegistry(
            try String.fetchAll(db, sql: "SELECT laureate_id FROM conflict WHERE expert_id = ?", arguments: [expertID]).map {
                ConflictRegistry.Pair(expertID: expertID, laureateID: $0)
            })
    }

    /// Every recorded conflict, for the programme team.
    public func conflicts() throws -> [(expertID: String, laureateID: String, reason: String, recordedAt: Date)] {
        try engine.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conflict ORDER BY recorded_at, expert_id, laureate_id").map {
                ($0["expert_id"], $0["laureate_id"], $0["reason"], $0["recorded_at"])
            }
        }
    }
}

extension AppDatabase {
    /// The laureates `account` may see, by name, each with whether it has handed in a framing note.
    public func laureates(for account: Account) throws -> [(laureate: Laureate, hasFramingNote: Bool)] {
        try engine.read { db in
            let withNotes = Set(try String.fetchAll(db, sql: "SELECT DISTINCT laureate_id FROM framing_note"))
            return try Row.fetchAll(db, sql: "SELECT * FROM laureate ORDER BY name, id").map(Self.laureate)
                .filter { try canSeeLaureate(db, account, $0.id) }
                .map { ($0, withNotes.contains($0.id)) }
        }
    }

    /// One laureate, for whoever may see it.
    public func laureate(id: String, for account: Account) throws -> (laureate: Laureate, hasFramingNote: Bool, revision: Int64) {
        try engine.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM laureate WHERE id = ?", arguments: [id]),
                try canSeeLaureate(db, account, id)
            else { throw StorageError.notFound }
            let hasNote =
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM framing_note WHERE laureate_id = ?)", arguments: [id]) ?? false
            return (try Self.laureate(from: row), hasNote, row["revision"])
        }
    }

    /// The programme team changes a laureate's record, based on the revision it read. The slug (its Drive folder)
    /// never changes; a ceiling cannot drop below what accepted missions already commit.
    public func updateLaureate(
        id: String, by account: Account, ifRevision expected: Int64?, change: @Sendable (inout Laureate) -> Void
    ) throws -> (laureate: Laureate, hasFramingNote: Bool, revision: Int64) {
        guard account.role == .admin else {
            throw account.laureateID == id ? StorageError.forbidden : StorageError.notFound
        }
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM laureate WHERE id = ?", arguments: [id]) else {
                throw StorageError.notFound
            }
            let revision: Int64 = row["revision"]
            if let expected, expected != revision { throw StorageError.stale(current: revision) }
            let before = try Self.laureate(from: row)
            var after = before
            change(&after)
            after.id = before.id
            after.slug = before.slug
            after.siret = Siret.normalised(after.siret)
            let errors = after.errors(settings: settings)
            guard errors.isEmpty else { throw StorageError.invalid(errors) }
            let committed = try Self.committed(db, laureateID: id)
            if after.supportCeilingCents < committed {
                throw StorageError.invalid([
                    FieldError(
                        "/support_ceiling_cents", "ceiling_below_committed",
                        "Accepted missions already commit \(Money.formatted(committed)).")
                ])
            }
            let now = self.now
            try db.execute(
                sql: """
                    UPDATE laureate SET name = ?, legal_entity = ?, siret = ?, commune_insee = ?, commune_name = ?, department_code = ?,
                        territory_types = ?, cohort = ?, sectors = ?, support_ceiling_cents = ?, revision = ? WHERE id = ?
                    """,
                arguments: [
                    after.name, after.legalEntity, after.siret, after.communeINSEE, after.communeName, after.departmentCode,
                    try Self.json(after.territoryTypes.map(\.rawValue).sorted()), after.cohort, try Self.json(after.sectors),
                    after.supportCeilingCents, try Self.nextRevision(db), id,
                ])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "laureate.updated", subjectType: "laureate", subjectID: id, before: before,
                after: after)
        }
        return try laureate(id: id, for: account)
    }
}

/// One expert of a laureate's team and the missions it holds with the laureate.
public struct TeamEntry: Sendable, Hashable {
    public struct Mission: Sendable, Hashable {
        public let id: String
        public let ref: String
        public let title: String
        public let state: MissionState
    }

    public let expert: ExpertContact
    public let missions: [Mission]
    /// Where the entry stands in the team's order (its first mission's request time and reference): a stable key
    /// for paging.
    public let orderKey: String
}

extension AppDatabase {
    /// The experts engaged with a laureate (SPEC §4.8), ordered by first engagement: for its members, the team, the
    /// sync service and the experts engaged with it; 404 for anyone else.
    public func team(laureateID: String, for account: Account) throws -> [TeamEntry] {
        try engine.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM laureate WHERE id = ?)", arguments: [laureateID]) == true,
                try canSeeLaureate(db, account, laureateID)
            else { throw StorageError.notFound }
            let engagements = try Row.fetchAll(
                db,
                sql: """
                    SELECT mission.id, mission.ref, mission.title, mission.expert_id, mission.state, mission.created_at
                    FROM mission JOIN mission_participant p ON p.mission_id = mission.id
                    WHERE p.laureate_id = ? AND p.joined = 1 ORDER BY mission.created_at, length(mission.ref), mission.ref
                    """, arguments: [laureateID])
            var refs: [String: String] = [:]
            var keys: [String: String] = [:]
            let list = engagements.map { row in
                refs[row["id"]] = row["ref"]
                let ref: String = row["ref"]
                let created: Date = row["created_at"]
                keys[row["id"]] =
                    String(format: "%017.3f", created.timeIntervalSince1970) + String(format: "%03d", ref.utf8.count) + ref
                return Engagement(
                    missionID: row["id"], title: row["title"], expertID: row["expert_id"], laureateIDs: [laureateID],
                    state: MissionState(rawValue: row["state"]) ?? .requested)
            }
            let decoder = JSONDecoder()
            return try DossierAccess.team(at: laureateID, engagements: list).map { member in
                let content: String =
                    try String.fetchOne(db, sql: "SELECT content FROM expert WHERE id = ?", arguments: [member.expertID]) ?? "{}"
                return TeamEntry(
                    expert: ExpertContact(
                        expertID: member.expertID, card: try decoder.decode(ExpertCardContent.self, from: Data(content.utf8)),
                        fullContact: true),
                    missions: member.missions.map {
                        TeamEntry.Mission(id: $0.missionID, ref: refs[$0.missionID] ?? "", title: $0.title, state: $0.state)
                    }, orderKey: member.missions.first.flatMap { keys[$0.missionID] } ?? "")
            }
        }
    }
}
