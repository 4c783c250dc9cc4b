import Domain
import Foundation
import GRDB

/// Everything the programme holds about one person, for them (RGPD articles 15 and 20): machine readable, stable keys.
public struct PersonalData: Sendable, Encodable {
    public struct AccountPart: Sendable, Encodable {
        let id, email, displayName, role: String
        let createdAt: Date
        let expertId, laureateId: String?
        let reminders: Bool
    }

    public struct TokenPart: Sendable, Encodable {
        let id, kind: String
        let name: String?
        let createdAt, expiresAt: Date
        let revokedAt, lastUsedAt: Date?
    }

    public struct LoginFailurePart: Sendable, Encodable {
        let at: Date
        let address: String
    }

    public struct CardPart: Sendable, Encodable {
        let id, slug, state: String
        let createdAt, updatedAt: Date
        let publishedAt: Date?
        let content: ExpertCardContent
        /// The programme team's decisions on the card, with their messages and notes.
        let reviews: [ReviewPart]
    }

    public struct ReviewPart: Sendable, Encodable {
        let action: String
        let message, note: String?
        let at: Date
    }

    public struct LaureatePart: Sendable, Encodable {
        let id, name: String
    }

    public struct MissionPart: Sendable, Encodable {
        let id, ref, title, state: String
        /// `expert` (the mission is theirs) or `requester` (they asked for it).
        let role: String
        let createdAt: Date
        /// For the expert: what they wrote (diagnostic and quote, report, last comment) and the reviews of their work.
        let proposal: Proposal?
        let report: MissionReport?
        let lastComment: String?
        let reviews: [SatisfactionPart]
    }

    /// A satisfaction review, its ratings by criterion.
    public struct SatisfactionPart: Sendable, Encodable {
        let laureateId: String
        let ratings: [String: Int]
        let wouldRecommend: Bool
        let comments: String
        let reviewedOn: CalendarDate?
    }

    public struct ConflictPart: Sendable, Encodable {
        let laureateId, reason: String
        let recordedAt: Date
    }

    public struct NotePart: Sendable, Encodable {
        let laureateId: String
        let version: Int
        let needs: [Need]
        let createdAt: Date
    }

    public struct DocumentPart: Sendable, Encodable {
        let documentId: String
        let version: Int
        let fileName, mediaType, sha256: String
        let size: Int64
        let createdAt: Date
    }

    public struct EventPart: Sendable, Encodable {
        let seq: Int64
        let at, action, subjectType, subjectId: String
        /// `actor` (they did it) or `subject` (it was done to their account or card).
        let role: String
    }

    let format = "mdp-personal-data/1"
    let generatedAt: Date
    let account: AccountPart
    let laureate: LaureatePart?
    let expertCard: CardPart?
    let tokens: [TokenPart]
    let loginFailures: [LoginFailurePart]
    let missions: [MissionPart]
    let conflicts: [ConflictPart]
    let framingNotes: [NotePart]
    let documents: [DocumentPart]
    let events: [EventPart]

    /// The JSON a person downloads: snake_case keys, RFC 3339 dates, sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension AppDatabase {
    /// Everything held about `account`'s person, read in one transaction.
    public func personalData(for account: Account) throws -> PersonalData {
        try engine.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ? AND erased_at IS NULL", arguments: [account.id])
            else { throw StorageError.notFound }
            let person = PersonalData.AccountPart(
                id: row["id"], email: row["email"], displayName: row["display_name"], role: row["role"], createdAt: row["created_at"],
                expertId: row["expert_id"], laureateId: row["laureate_id"], reminders: (row["reminders"] as Int64? ?? 1) == 1)
            let tokens = try Row.fetchAll(db, sql: "SELECT * FROM token WHERE user_id = ? ORDER BY created_at, id", arguments: [account.id])
                .map {
                    PersonalData.TokenPart(
                        id: $0["id"], kind: $0["kind"], name: $0["name"], createdAt: $0["created_at"], expiresAt: $0["expires_at"],
                        revokedAt: $0["revoked_at"], lastUsedAt: $0["last_used_at"])
                }
            let failures = try Row.fetchAll(
                db, sql: "SELECT at, address FROM login_failure WHERE email = ? ORDER BY at", arguments: [account.email]
            ).map { PersonalData.LoginFailurePart(at: $0["at"], address: $0["address"]) }
            var card: PersonalData.CardPart?
            if let expertID = account.expertID {
                let record = try Self.fetchCard(db, id: expertID)
                let reviews = try Row.fetchAll(
                    db, sql: "SELECT action, message, note, at FROM expert_review WHERE expert_id = ? ORDER BY id", arguments: [expertID]
                ).map { PersonalData.ReviewPart(action: $0["action"], message: $0["message"], note: $0["note"], at: $0["at"]) }
                card = PersonalData.CardPart(
                    id: record.id, slug: record.slug, state: record.state.rawValue, createdAt: record.createdAt,
                    updatedAt: record.updatedAt,
                    publishedAt: record.publishedAt, content: record.content, reviews: reviews)
            }
            let laureate = try account.laureateID.flatMap { id in
                try String.fetchOne(db, sql: "SELECT name FROM laureate WHERE id = ?", arguments: [id]).map {
                    PersonalData.LaureatePart(id: id, name: $0)
                }
            }
            let missions = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, ref, title, state, created_at,
                           CASE WHEN expert_id = ? THEN 'expert' WHEN requested_by = ? THEN 'requester' ELSE 'participant' END AS role
                    FROM mission WHERE expert_id = ? OR requested_by = ?
                       OR id IN (SELECT subject_id FROM event WHERE subject_type = 'mission' AND actor_id = ?)
                    ORDER BY ref
                    """, arguments: [account.expertID ?? "", account.id, account.expertID ?? "", account.id, account.id]
            ).map { row in (id: row["id"] as String, role: row["role"] as String, createdAt: row["created_at"] as Date) }
            let records = Dictionary(
                try Self.missionRecords(db, ids: missions.map(\.id)).map { ($0.mission.id, $0.mission) }, uniquingKeysWith: { a, _ in a })
            let missionParts = missions.compactMap { entry -> PersonalData.MissionPart? in
                guard let mission = records[entry.id] else { return nil }
                let theirs = entry.role == "expert"
                // The expert: every review of their work; a member: their laureate's review (members write it).
                let reviews = mission.participants.filter { theirs || $0.laureateID == account.laureateID }.compactMap { participant in
                    participant.review.map {
                        PersonalData.SatisfactionPart(
                            laureateId: participant.laureateID,
                            ratings: Dictionary($0.ratings.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { first, _ in first }),
                            wouldRecommend: $0.wouldRecommend, comments: $0.comments, reviewedOn: participant.reviewedOn)
                    }
                }
                return PersonalData.MissionPart(
                    id: mission.id, ref: mission.ref.description, title: mission.title, state: mission.state.rawValue, role: entry.role,
                    createdAt: entry.createdAt, proposal: theirs ? mission.proposal : nil, report: theirs ? mission.report : nil,
                    lastComment: mission.lastComment, reviews: reviews)
            }
            let conflicts = try Row.fetchAll(
                db, sql: "SELECT laureate_id, reason, recorded_at FROM conflict WHERE expert_id = ? ORDER BY recorded_at",
                arguments: [account.expertID ?? ""]
            ).map { PersonalData.ConflictPart(laureateId: $0["laureate_id"], reason: $0["reason"], recordedAt: $0["recorded_at"]) }
            let notes = try Row.fetchAll(
                db,
                sql: "SELECT laureate_id, version, needs, created_at FROM framing_note WHERE author_id = ? ORDER BY created_at, version",
                arguments: [account.id]
            ).map {
                PersonalData.NotePart(
                    laureateId: $0["laureate_id"], version: $0["version"],
                    needs: try JSONDecoder().decode([Need].self, from: Data(($0["needs"] as String).utf8)), createdAt: $0["created_at"])
            }
            let documents = try Row.fetchAll(
                db,
                sql: """
                    SELECT document_id, version, file_name, media_type, size, sha256, created_at FROM document_version
                    WHERE uploader_id = ? ORDER BY created_at, document_id, version
                    """, arguments: [account.id]
            ).map {
                PersonalData.DocumentPart(
                    documentId: $0["document_id"], version: $0["version"], fileName: $0["file_name"], mediaType: $0["media_type"],
                    sha256: $0["sha256"], size: $0["size"], createdAt: $0["created_at"])
            }
            let events = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, at, action, subject_type, subject_id, CASE WHEN actor_id = ? THEN 'actor' ELSE 'subject' END AS role
                    FROM event WHERE actor_id = ? OR (subject_type IN ('account', 'user') AND subject_id = ?)
                       OR (subject_type = 'expert' AND subject_id = ?)
                       OR (subject_type = 'mission' AND subject_id IN (SELECT id FROM mission WHERE expert_id = ? OR requested_by = ?))
                    ORDER BY seq
                    """, arguments: [account.id, account.id, account.id, account.expertID ?? "", account.expertID ?? "", account.id]
            ).map {
                PersonalData.EventPart(
                    seq: $0["seq"], at: $0["at"], action: $0["action"], subjectType: $0["subject_type"], subjectId: $0["subject_id"],
                    role: $0["role"])
            }
            return PersonalData(
                generatedAt: now, account: person, laureate: laureate, expertCard: card, tokens: tokens, loginFailures: failures,
                missions: missionParts, conflicts: conflicts, framingNotes: notes, documents: documents, events: events)
        }
    }

    /// Erases `account`'s person at their request (RGPD article 17), in one transaction: the account can no longer log
    /// in (password and every token gone) and is renamed to its pseudonym with an address that never receives mail; an
    /// expert's card leaves the directory and every listing, pseudonymised (`Erasure.pseudonymised`); the team's
    /// messages about it, failed logins with the old address and stored replies of its requests are deleted. Missions,
    /// budgets, framing notes, documents and the audit chain stay, as records, showing the pseudonym. Refused while an
    /// expert still has a running mission (409, naming them), and for team and service accounts.
    public func erase(account: Account, confirmingEmail: String, tokenID: String? = nil) throws -> (pseudonym: String, erasedAt: Date) {
        guard account.role == .expert || account.role == .laureate else { throw StorageError.forbidden }
        // Only the person, logged in with their password: not an integration holding one of their access tokens.
        if let tokenID {
            let kind = try engine.read { db in try String.fetchOne(db, sql: "SELECT kind FROM token WHERE id = ?", arguments: [tokenID]) }
            guard kind == "session" else { throw StorageError.sessionRequired }
        }
        guard Credentials.normalisedEmail(confirmingEmail) == account.email else {
            throw StorageError.invalid([FieldError("/confirm_email", "mismatch", "Type the address of your account to confirm.")])
        }
        let erasedAt = now
        let result = try write { db -> String in
            guard try Bool.fetchOne(db, sql: "SELECT erased_at IS NULL FROM account WHERE id = ?", arguments: [account.id]) == true else {
                throw StorageError.notFound
            }
            if let expertID = account.expertID { try Self.checkNoMissionRuns(db, expertID: expertID) }
            return try Self.eraseRecords(db, account: account, at: erasedAt, actorID: account.id)
        }
        directory.invalidate()
        return (result, erasedAt)
    }

    /// The team erases an expert who asked by other means (a letter, an e-mail) or can no longer log in: the same
    /// erasure, with the team member as its actor, on the card as the team last read it (`ifRevision`, nil for any).
    public func eraseExpert(id expertID: String, by admin: Account, ifRevision expected: Int64?) throws -> (
        pseudonym: String, erasedAt: Date
    ) {
        guard admin.role == .admin else { throw StorageError.forbidden }
        let erasedAt = now
        let result = try write { db -> String in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM account WHERE expert_id = ? AND erased_at IS NULL", arguments: [expertID]),
                let revision = try Int64.fetchOne(
                    db, sql: "SELECT revision FROM expert WHERE id = ? AND erased_at IS NULL", arguments: [expertID])
            else { throw StorageError.notFound }
            if let expected, expected != revision { throw StorageError.stale(current: revision) }
            try Self.checkNoMissionRuns(db, expertID: expertID)
            return try Self.eraseRecords(db, account: Self.account(from: row), at: erasedAt, actorID: admin.id)
        }
        directory.invalidate()
        return (result, erasedAt)
    }

    /// An expert with a mission under way (requested to reported) cannot be erased: the programme must still reach them.
    static func checkNoMissionRuns(_ db: SQLConnection, expertID: String) throws {
        let missions = try Row.fetchAll(db, sql: "SELECT ref, state FROM mission WHERE expert_id = ?", arguments: [expertID]).map {
            (ref: $0["ref"] as String, state: MissionState(rawValue: $0["state"]) ?? .requested)
        }
        let blocking = Erasure.blockingMissions(missions)
        guard blocking.isEmpty else { throw StorageError.missionsInProgress(blocking) }
    }

    /// The erasure itself, in the caller's transaction; `actorID` nil when the retention policy does it.
    static func eraseRecords(_ db: SQLConnection, account: Account, at erasedAt: Date, actorID: String?) throws -> String {
        try db.execute(sql: "INSERT INTO counter (name, value) VALUES ('erasure', 0) ON CONFLICT (name) DO NOTHING")
        try db.execute(sql: "UPDATE counter SET value = value + 1 WHERE name = 'erasure'")
        let number = Int(try Int64.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'erasure'") ?? 1)
        let pseudonym = Erasure.pseudonym(role: account.role, number: number)
        try db.execute(
            sql: """
                UPDATE account SET email = ?, display_name = ?, password_hash = NULL, reminders = 0, erased_at = ? WHERE id = ?
                """, arguments: [Erasure.address(number: number), pseudonym, erasedAt, account.id])
        try db.execute(sql: "DELETE FROM token WHERE user_id = ?", arguments: [account.id])
        try db.execute(sql: "DELETE FROM login_failure WHERE email = ?", arguments: [account.email])
        try db.execute(sql: "DELETE FROM idempotency WHERE scope = ?", arguments: ["user:\(account.id)"])
        if let expertID = account.expertID {
            let card = try Self.fetchCard(db, id: expertID)
            // A slug no card holds (someone may have signed up under a name that makes this one).
            let base = "expert-supprime-\(number)"
            let taken = Set(
                try String.fetchAll(
                    db, sql: "SELECT slug FROM expert WHERE (slug = ? OR slug LIKE ?) AND id <> ?",
                    arguments: [base, base + "-%", expertID]))
            let slug = ([base] + (2...1000).map { "\(base)-\($0)" }).first { !taken.contains($0) } ?? "\(base)-\(expertID)"
            // Webhook deliveries about the card or its missions carry the person's card as it was: none is kept, sent
            // or replayed any more.
            try db.execute(
                sql: "DELETE FROM webhook_delivery WHERE subject_id = ? OR subject_id IN (SELECT id FROM mission WHERE expert_id = ?)",
                arguments: [expertID, expertID])
            // Stored replies of other people's requests that show the expert (a mission they asked for, a card the
            // team published) are dropped: a retry with their key must not bring the person back.
            let marker = Data(expertID.utf8)
            for row in try Row.fetchAll(db, sql: "SELECT scope, key, body FROM idempotency WHERE body IS NOT NULL") {
                guard let body = row["body"] as Data?, body.range(of: marker) != nil else { continue }
                try db.execute(
                    sql: "DELETE FROM idempotency WHERE scope = ? AND key = ?", arguments: [row["scope"] as String, row["key"] as String])
            }
            // Conflicts stay recorded (the pair may never work together); their reason, which may name the person, goes.
            try db.execute(
                sql: "UPDATE conflict SET reason = ? WHERE expert_id = ?", arguments: ["(motif effacé avec la personne)", expertID])
            // Every mission showing the expert changes: a new revision, so offline clients and the sync read it again.
            for missionID in try String.fetchAll(db, sql: "SELECT id FROM mission WHERE expert_id = ? ORDER BY ref", arguments: [expertID])
            {
                try db.execute(
                    sql: "UPDATE mission SET revision = ?, updated_at = ? WHERE id = ?",
                    arguments: [try Self.nextRevision(db), erasedAt, missionID])
            }
            let revision = try Self.nextRevision(db)
            try db.execute(
                sql: """
                    UPDATE expert SET content = ?, slug = ?, state = 'withdrawn', message = NULL, erased_at = ?, revision = ?,
                           updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    try Self.encode(Erasure.pseudonymised(card.content, number: number)), slug, erasedAt, revision,
                    erasedAt, expertID,
                ])
            try db.execute(sql: "UPDATE expert_review SET message = NULL, note = NULL WHERE expert_id = ?", arguments: [expertID])
            try Self.appendEvent(
                db, at: erasedAt, actorID: actorID, action: "expert.erased", subjectType: "expert", subjectID: expertID,
                before: String?.none, after: ["number": number])
            try Self.announceDirectoryChange(db)
        }
        try Self.appendEvent(
            db, at: erasedAt, actorID: actorID, action: "account.erased", subjectType: "account", subjectID: account.id,
            before: String?.none, after: ["number": number])
        return pseudonym
    }

    /// What the retention policy removes, by kind.
    public struct PurgeReport: Sendable, Hashable, CustomStringConvertible {
        public var loginFailures = 0, signupAttempts = 0, tokens = 0, notices = 0, webhookDeliveries = 0, draftCards = 0
        public var total: Int { loginFailures + signupAttempts + tokens + notices + webhookDeliveries + draftCards }
        public init() {}
        public var description: String {
            "failed logins \(loginFailures), sign-up attempts \(signupAttempts), tokens \(tokens), notices \(notices), "
                + "webhook deliveries \(webhookDeliveries), abandoned draft cards erased \(draftCards)"
        }
    }

    /// Removes what `policy` no longer keeps (idempotent; any instance may run it at any time).
    public func purge(_ policy: RetentionPolicy) throws -> PurgeReport {
        let now = self.now
        func cutoff(_ days: Int) -> Date { now.addingTimeInterval(-Double(max(1, days)) * 86_400) }
        var report = PurgeReport()
        try write { db in
            func delete(_ sql: String, _ days: Int) throws -> Int {
                try db.execute(sql: sql, arguments: [cutoff(days)])
                return db.changesCount
            }
            report.loginFailures = try delete("DELETE FROM login_failure WHERE at < ?", policy.loginFailureDays)
            report.signupAttempts = try delete("DELETE FROM signup_attempt WHERE at < ?", policy.signupAttemptDays)
            let tokenCutoff = cutoff(policy.tokenDays)
            try db.execute(sql: "DELETE FROM token WHERE expires_at < ? OR revoked_at < ?", arguments: [tokenCutoff, tokenCutoff])
            report.tokens = db.changesCount
            (report.notices, report.webhookDeliveries) = try Self.purgeSettled(
                db, now: now, keepNotices: Double(policy.noticeDays) * 86_400, keepWebhooks: Double(policy.webhookDeliveryDays) * 86_400)
        }
        // Abandoned sign-ups: cards never submitted nor edited for the period, one erasure (and transaction) each.
        let abandoned = try engine.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account.* FROM account JOIN expert ON expert.id = account.expert_id
                    WHERE expert.state = 'draft' AND expert.erased_at IS NULL AND account.erased_at IS NULL AND expert.updated_at < ?
                      AND expert.published_at IS NULL
                      AND NOT EXISTS (SELECT 1 FROM mission WHERE mission.expert_id = expert.id)
                      AND NOT EXISTS (SELECT 1 FROM event WHERE event.subject_type = 'expert' AND event.subject_id = expert.id
                                      AND event.action = 'expert.submit')
                    """, arguments: [cutoff(policy.draftCardDays)]
            ).map(Self.account)
        }
        for account in abandoned {
            _ = try write { db in try Self.eraseRecords(db, account: account, at: now, actorID: nil) }
            report.draftCards += 1
        }
        if report.draftCards > 0 { directory.invalidate() }
        return report
    }
}

extension AppDatabase {
    /// Experts whose missions have all ended, at least one closed: who the demo shows erased.
    public func expertsWithOnlyEndedMissions() throws -> [Account] {
        try engine.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT account.* FROM account WHERE account.expert_id IS NOT NULL AND account.erased_at IS NULL
                      AND EXISTS (SELECT 1 FROM mission m WHERE m.expert_id = account.expert_id AND m.state = 'closed')
                      AND NOT EXISTS (SELECT 1 FROM mission m WHERE m.expert_id = account.expert_id
                                      AND m.state NOT IN ('closed', 'declined', 'cancelled', 'terminated'))
                    ORDER BY account.email
                    """
            ).map(Self.account)
        }
    }

    /// Every column of the tables that hold people's data, as text, for tests that check an erasure left nothing.
    public func debugDumpOfPersonalTables() throws -> String {
        try engine.read { db in
            try ["account", "expert", "expert_review", "token", "login_failure", "idempotency"].flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map(\.description)
            }.joined(separator: "\n")
        }
    }
}
