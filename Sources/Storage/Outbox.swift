import Domain
import Foundation
import GRDB

/// A notice waiting in the outbox for one recipient.
public struct OutboxEntry: Sendable, Hashable {
    public let id: String
    public let kind: NoticeKind
    public let subjectID: String
    public let recipient: Recipient
    /// The audit event of the change that caused it.
    public let eventSeq: Int64
    /// When the change was committed.
    public let createdAt: Date
    /// Failed attempts so far.
    public let attempts: Int
    /// The accounts it already reached (or whose server refused it for good): a retry skips them.
    public let doneFor: Set<String>
}

/// Someone a notice is sent to: an account's address and name.
public struct NoticeAddress: Sendable, Hashable {
    public let accountID: String
    public let email: String
    public let displayName: String
}

/// What a notice is about, as its message names it: a mission (its title, reference, expert, laureates, the last
/// comment of a send-back, its state) or an expert's card (the expert's name in `title`).
public struct NoticeSubject: Sendable, Hashable {
    public let title: String
    public let reference: String?
    public let expertName: String
    /// The laureates that joined, in order.
    public let laureateNames: [String]
    /// Laureates invited into the pool that have not answered yet.
    public let invitedCount: Int
    public let comment: String?
    public let state: String?
}

/// How a notice's delivery ended.
public enum NoticeOutcome: String, Sendable {
    /// Sent to every address it had.
    case delivered
    /// Still failing after three days of attempts.
    case failed
    /// Nothing to send: e-mail is off, nobody is to be told, or its subject is gone.
    case skipped
}

extension AppDatabase {
    /// Writes `notices` into the outbox in the caller's transaction, after the change's audit event: nothing is sent for
    /// a change that rolled back, nothing is lost by a crash after the commit.
    static func enqueue(_ notices: [Notice], _ db: SQLConnection, at date: Date) throws {
        guard !notices.isEmpty else { return }
        let seq = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM event") ?? 0
        for notice in notices {
            for recipient in notice.recipients {
                try db.execute(
                    sql: "INSERT INTO outbox (id, kind, subject_id, recipient, event_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [newID(), notice.kind.rawValue, notice.subjectID, recipient.stored, seq, date])
            }
        }
        try enqueueWebhooks(notices, db, seq: seq, at: date)
    }

    /// The notices not yet delivered, oldest first.
    public func waitingNotices(limit: Int = 1000) throws -> [OutboxEntry] {
        try engine.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY created_at, event_seq, id LIMIT ?", arguments: [limit]
            ).compactMap(OutboxEntry.init(row:))
        }
    }

    /// Takes up to `limit` notices that are due (never tried, or their next attempt has come) and not held by another
    /// worker, and holds them for `lease` seconds: two instances do not send the same notice at the same time (one that
    /// died while holding some lets go when the lease ends; its notices are sent again, at least once).
    public func claimDueNotices(limit: Int, lease: TimeInterval) throws -> [OutboxEntry] {
        let now = self.now
        return try engine.write { db in
            let entries = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox WHERE delivered_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                    AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY created_at, event_seq, id LIMIT ?
                    """,
                arguments: [now, now, max(limit, 0)]
            ).compactMap(OutboxEntry.init(row:))
            for entry in entries {
                try db.execute(
                    sql: "UPDATE outbox SET claimed_until = ? WHERE id = ?", arguments: [now.addingTimeInterval(lease), entry.id])
            }
            return entries
        }
    }

    /// Records that a notice reached an account (or that its server refused it for good): a retry skips it.
    public func noteNoticeDone(id: String, for accountID: String) throws {
        try engine.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT done_for FROM outbox WHERE id = ?", arguments: [id]) else { return }
            var done = Set((try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? [])
            done.insert(accountID)
            try db.execute(sql: "UPDATE outbox SET done_for = ? WHERE id = ?", arguments: [try Self.json(done.sorted()), id])
        }
    }

    /// Ends a notice's delivery: it is not tried again.
    public func settleNotice(id: String, outcome: NoticeOutcome, error: String? = nil) throws {
        let now = self.now
        try engine.write { db in
            try db.execute(
                sql:
                    "UPDATE outbox SET delivered_at = ?, outcome = ?, last_error = ?, claimed_until = NULL WHERE id = ? AND delivered_at IS NULL",
                arguments: [now, outcome.rawValue, error.map { String($0.prefix(500)) }, id])
        }
    }

    /// Records a failed attempt: the notice is tried again after a backoff (`DeliveryRules`, `jitter` from 0 to 1), or,
    /// three days after it was queued, marked failed. Returns how it stands: nil while it will be tried again.
    @discardableResult
    public func recordFailedAttempt(_ entry: OutboxEntry, error: String, jitter: Double) throws -> NoticeOutcome? {
        guard
            let next = DeliveryRules.nextAttempt(
                queued: entry.createdAt, failures: min(entry.attempts, 1_000) + 1, now: now, jitter: jitter)
        else {
            try settleNotice(id: entry.id, outcome: .failed, error: error)
            return .failed
        }
        try engine.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, claimed_until = NULL
                    WHERE id = ? AND delivered_at IS NULL
                    """,
                arguments: [next, String(error.prefix(500)), entry.id])
        }
        return nil
    }

    /// How many notices are waiting, and how many ended each way.
    public func outboxCounts() throws -> (waiting: Int, delivered: Int, failed: Int, skipped: Int) {
        try engine.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT coalesce(outcome, 'waiting') AS outcome, count(*) AS n FROM outbox GROUP BY 1") {
                counts[row["outcome"]] = row["n"]
            }
            return (counts["waiting"] ?? 0, counts["delivered"] ?? 0, counts["failed"] ?? 0, counts["skipped"] ?? 0)
        }
    }

    /// The addresses a notice for `recipient` goes to: the expert's account, the laureate's members, or every admin of
    /// the programme team; for a reminder, only those who did not turn reminders off.
    public func noticeAddresses(for recipient: Recipient, reminder: Bool) throws -> [NoticeAddress] {
        let (condition, argument): (String, String?) =
            switch recipient {
            case .expert(let id): ("expert_id = ?", id)
            case .laureate(let id): ("laureate_id = ?", id)
            case .team: ("role = 'admin'", nil)
            }
        return try engine.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, email, display_name FROM account WHERE \(condition) AND erased_at IS NULL\(reminder ? " AND reminders = 1" : "")
                    ORDER BY email
                    """,
                arguments: SQLArguments(argument.map { [$0] } ?? [])
            ).map { NoticeAddress(accountID: $0["id"], email: $0["email"], displayName: $0["display_name"]) }
        }
    }

    /// What `entry` is about, as of now; nil when it is gone.
    public func noticeSubject(_ entry: OutboxEntry) throws -> NoticeSubject? {
        try engine.read { db in
            if entry.kind == .cardSubmitted {
                guard
                    let name = try String.fetchOne(
                        db, sql: "SELECT display_name FROM account WHERE expert_id = ?", arguments: [entry.subjectID])
                else { return nil }
                return NoticeSubject(
                    title: name, reference: nil, expertName: name, laureateNames: [], invitedCount: 0, comment: nil, state: nil)
            }
            guard
                let mission = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT m.title, m.ref, m.state, m.last_comment, a.display_name AS expert_name FROM mission m
                        LEFT JOIN account a ON a.expert_id = m.expert_id WHERE m.id = ?
                        """,
                    arguments: [entry.subjectID])
            else { return nil }
            // Only the laureates that joined are named: an expert never learns who was invited (nor does an invitee
            // learn who else was), as the API shows them.
            let laureates = try String.fetchAll(
                db,
                sql: """
                    SELECT l.name FROM mission_participant p JOIN laureate l ON l.id = p.laureate_id
                    WHERE p.mission_id = ? AND p.joined = 1 ORDER BY p.position
                    """,
                arguments: [entry.subjectID])
            let invited =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM mission_participant WHERE mission_id = ? AND joined = 0", arguments: [entry.subjectID])
                ?? 0
            return NoticeSubject(
                title: mission["title"], reference: mission["ref"], expertName: mission["expert_name"] ?? "", laureateNames: laureates,
                invitedCount: invited, comment: mission["last_comment"], state: mission["state"])
        }
    }

    /// Settles every waiting notice but the `latest` newest as skipped (the demo's history is not mailed on its first
    /// start); returns how many.
    public func skipWaitingNotices(keepingLatest latest: Int, reason: String) throws -> Int {
        let now = self.now
        return try engine.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET delivered_at = ?, outcome = 'skipped', last_error = ? WHERE delivered_at IS NULL AND id NOT IN
                    (SELECT id FROM outbox WHERE delivered_at IS NULL ORDER BY created_at DESC, event_seq DESC, id LIMIT ?)
                    """,
                arguments: [now, reason, max(latest, 0)])
            return db.changesCount
        }
    }

    /// Queues the reminders due today (`ProgrammeSettings.reminders`): each once per mission, kind, recipient and the
    /// step that started the wait (a proposal sent again starts a new wait). Returns how many were queued.
    @discardableResult
    public func scheduleReminders() throws -> Int {
        let today = calendarToday
        let settings = self.settings.reminders
        let now = self.now
        let waitsFrom = ["proposed": "mission.propose", "accepted": "mission.accept", "reported": "mission.report"]
        return try engine.write { db in
            var queued = 0
            let waiting = try Row.fetchAll(db, sql: "SELECT id, state FROM mission WHERE state IN ('proposed', 'accepted', 'reported')")
            for row in waiting {
                let id: String = row["id"]
                guard let action = waitsFrom[row["state"] as String],
                    let event = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT seq, at FROM event WHERE subject_type = 'mission' AND subject_id = ? AND action = ?
                            ORDER BY seq DESC LIMIT 1
                            """,
                        arguments: [id, action])
                else { continue }
                let mission = try Self.missionRecord(db, id: id).mission
                let seq: Int64 = event["seq"]
                for notice in NotificationRules.reminders(
                    for: mission, since: Self.calendarDay(of: event["at"]), today: today, settings: settings)
                {
                    for recipient in notice.recipients {
                        try db.execute(
                            sql: """
                                INSERT INTO outbox (id, kind, subject_id, recipient, event_seq, created_at, reminder_key)
                                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reminder_key) DO NOTHING
                                """,
                            arguments: [
                                Self.newID(), notice.kind.rawValue, id, recipient.stored, seq, now,
                                "\(notice.kind.rawValue) \(id) \(seq) \(recipient.stored)",
                            ])
                        queued += db.changesCount
                    }
                }
            }
            return queued
        }
    }

    /// Forgets what ended long ago (`DeliveryRules.keepSettled`, `keepFailed` for failed deliveries): a reminder stays
    /// while its mission still waits, as the record that it was sent. Returns how many rows went.
    @discardableResult
    public func purgeSettledNotifications(
        keepNotices: TimeInterval = DeliveryRules.keepSettled, keepWebhooks: TimeInterval = DeliveryRules.keepSettled
    ) throws -> Int {
        let counts = try engine.write { db in
            try Self.purgeSettled(db, now: now, keepNotices: keepNotices, keepWebhooks: keepWebhooks)
        }
        return counts.notices + counts.webhooks
    }

    static func purgeSettled(_ db: SQLConnection, now: Date, keepNotices: TimeInterval, keepWebhooks: TimeInterval) throws
        -> (notices: Int, webhooks: Int)
    {
        let cutoff = now.addingTimeInterval(-keepNotices)
        let webhookCutoff = now.addingTimeInterval(-keepWebhooks)
        let failedCutoff = now.addingTimeInterval(-max(keepWebhooks, DeliveryRules.keepFailed))
        do {
            // A reminder's row is its key while its mission still waits: kept, or the wait would be reminded again.
            try db.execute(
                sql: """
                    DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ? AND (reminder_key IS NULL
                    OR subject_id NOT IN (SELECT id FROM mission WHERE state IN ('proposed', 'accepted', 'reported')))
                    """,
                arguments: [cutoff])
            let notices = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM webhook_delivery WHERE (outcome = 'delivered' AND delivered_at < ?) OR (outcome = 'failed' AND delivered_at < ?)
                    """,
                arguments: [webhookCutoff, failedCutoff])
            return (notices, db.changesCount)
        }
    }

    /// Whether an account receives reminders.
    public func receivesReminders(accountID: String) throws -> Bool {
        try engine.read { db in try Int.fetchOne(db, sql: "SELECT reminders FROM account WHERE id = ?", arguments: [accountID]) != 0 }
    }

    /// Turns an account's reminders on or off (hand-offs are always sent).
    public func setReminders(accountID: String, on: Bool) throws {
        try engine.write { db in
            try db.execute(sql: "UPDATE account SET reminders = ? WHERE id = ?", arguments: [on ? 1 : 0, accountID])
        }
    }
}

extension OutboxEntry {
    init?(row: Row) {
        guard let kind = NoticeKind(rawValue: row["kind"]), let recipient = Recipient(stored: row["recipient"]) else { return nil }
        self.init(
            id: row["id"], kind: kind, subjectID: row["subject_id"], recipient: recipient, eventSeq: row["event_seq"],
            createdAt: row["created_at"], attempts: row["attempts"] ?? 0,
            doneFor: Set((try? JSONDecoder().decode([String].self, from: Data((row["done_for"] as String? ?? "[]").utf8))) ?? []))
    }
}

extension Recipient {
    /// `expert:ID`, `laureate:ID` or `team`, as the outbox keeps it.
    var stored: String {
        switch self {
        case .expert(let id): "expert:\(id)"
        case .laureate(let id): "laureate:\(id)"
        case .team: "team"
        }
    }

    init?(stored: String) {
        if stored == "team" {
            self = .team
        } else if stored.hasPrefix("expert:") {
            self = .expert(id: String(stored.dropFirst(7)))
        } else if stored.hasPrefix("laureate:") {
            self = .laureate(id: String(stored.dropFirst(9)))
        } else {
            return nil
        }
    }
}
