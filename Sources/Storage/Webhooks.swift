import Domain
import Foundation
import GRDB

/// A webhook subscription of the programme team: where events go and which.
public struct WebhookSubscription: Sendable, Hashable {
    public let id: String
    public let url: String
    public let eventTypes: [NoticeKind]
    public let description: String
    public let active: Bool
    public let revision: Int64
    public let createdAt: Date
}

/// How a webhook delivery stands.
public enum WebhookDeliveryState: String, Sendable, CaseIterable {
    case waiting, delivered, failed
}

/// One event sent to one subscription.
public struct WebhookDeliveryRecord: Sendable, Hashable {
    /// The `webhook-id` receivers see, the same for every attempt and replay.
    public let id: String
    public let subscriptionID: String
    public let eventType: NoticeKind
    public let subjectID: String
    public let createdAt: Date
    public let attempts: Int
    public let state: WebhookDeliveryState
    public let nextAttemptAt: Date?
    public let deliveredAt: Date?
    public let lastStatus: Int?
    public let lastError: String?
    /// The JSON body, once rendered (at the first attempt).
    public let payload: String?
    /// The resource as it stood right after the change, captured in its transaction.
    public let snapshot: WebhookSnapshot?
    /// When the current round of attempts began (the change, or the last replay).
    public let queuedAt: Date
}

/// The resource an event is about, as it stood right after the change.
public enum WebhookSnapshot: Sendable, Hashable, Codable {
    case mission(MissionRecord)
    case card(ExpertCardRecord, reviews: [ReviewEntry])
}

/// What the team may get wrong managing subscriptions.
public enum WebhookError: Error, Sendable, Hashable {
    case badURL
    case noEventTypes
    case unknownEventType(String)
    case descriptionTooLong
}

/// The events a subscription may choose: every hand-off (reminders are for people, not systems).
extension NoticeKind {
    public static var webhookEvents: [NoticeKind] { allCases.filter { !$0.isReminder } }
}

extension AppDatabase {
    /// Creates a subscription; `secret` is the signing key (`whsec_…`), shown to the team once.
    public func createWebhookSubscription(url: String, eventTypes: [String], description: String, secret: String, by account: Account)
        throws -> WebhookSubscription
    {
        guard account.role == .admin else { throw StorageError.forbidden }
        let kinds = try Self.checkedSubscription(url: url, eventTypes: eventTypes, description: description)
        let now = self.now
        let id = Self.newID()
        return try engine.write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_subscription (id, url, event_types, description, secret, active, revision, created_at)
                    VALUES (?, ?, ?, ?, ?, 1, 1, ?)
                    """,
                arguments: [id, url, try Self.json(kinds.map(\.rawValue)), description, secret, now])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "webhook.subscribed", subjectType: "webhook_subscription", subjectID: id,
                before: String?.none, after: url)
            return try Self.webhookSubscription(db, id: id)
        }
    }

    /// Changes what is given (URL, event types, description, active); `expected` is the revision the caller read.
    public func updateWebhookSubscription(
        id: String, url: String?, eventTypes: [String]?, description: String?, active: Bool?, ifRevision expected: Int64?,
        by account: Account
    ) throws -> WebhookSubscription {
        guard account.role == .admin else { throw StorageError.forbidden }
        return try engine.write { db in
            let current = try Self.webhookSubscription(db, id: id)
            if let expected, expected != current.revision { throw StorageError.stale(current: current.revision) }
            let newURL = url ?? current.url
            let newTypes = eventTypes ?? current.eventTypes.map(\.rawValue)
            let newDescription = description ?? current.description
            let kinds = try Self.checkedSubscription(url: newURL, eventTypes: newTypes, description: newDescription)
            let newActive = active ?? current.active
            // A change that changes nothing keeps the version (and leaves no event).
            if newURL == current.url && kinds == current.eventTypes && newDescription == current.description && newActive == current.active
            {
                return current
            }
            try db.execute(
                sql: """
                    UPDATE webhook_subscription SET url = ?, event_types = ?, description = ?, active = ?, revision = revision + 1
                    WHERE id = ?
                    """,
                arguments: [newURL, try Self.json(kinds.map(\.rawValue)), newDescription, newActive ? 1 : 0, id])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "webhook.changed", subjectType: "webhook_subscription", subjectID: id,
                before: current.url, after: newURL)
            return try Self.webhookSubscription(db, id: id)
        }
    }

    /// Removes a subscription and its deliveries.
    public func deleteWebhookSubscription(id: String, by account: Account) throws {
        guard account.role == .admin else { throw StorageError.forbidden }
        try engine.write { db in
            let current = try Self.webhookSubscription(db, id: id)
            try db.execute(sql: "DELETE FROM webhook_delivery WHERE subscription_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM webhook_subscription WHERE id = ?", arguments: [id])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "webhook.deleted", subjectType: "webhook_subscription", subjectID: id,
                before: current.url, after: String?.none)
        }
    }

    public func webhookSubscription(id: String, for account: Account) throws -> WebhookSubscription {
        guard account.role == .admin else { throw StorageError.forbidden }
        return try engine.read { db in try Self.webhookSubscription(db, id: id) }
    }

    public func webhookSubscriptions(for account: Account) throws -> [WebhookSubscription] {
        guard account.role == .admin else { throw StorageError.forbidden }
        return try engine.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_subscription ORDER BY created_at, id").map(WebhookSubscription.init(row:))
        }
    }

    /// Deliveries, newest first, by state and subscription; `before` is the `created_at|id` key of the last one seen.
    public func webhookDeliveries(
        state: WebhookDeliveryState?, subscriptionID: String?, after cursor: (Date, String)?, limit: Int, for account: Account
    ) throws -> [WebhookDeliveryRecord] {
        guard account.role == .admin else { throw StorageError.forbidden }
        var conditions: [String] = []
        var arguments: SQLArguments = []
        switch state {
        case .waiting?: conditions.append("delivered_at IS NULL")
        case .delivered?: conditions.append("outcome = 'delivered'")
        case .failed?: conditions.append("outcome = 'failed'")
        case nil: break
        }
        if let subscriptionID {
            conditions.append("subscription_id = ?")
            arguments += [subscriptionID]
        }
        if let cursor {
            conditions.append("(created_at < ? OR (created_at = ? AND id < ?))")
            arguments += [cursor.0, cursor.0, cursor.1]
        }
        arguments += [max(limit, 0)]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try engine.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_delivery \(filter) ORDER BY created_at DESC, id DESC LIMIT ?", arguments: arguments
            )
            .compactMap(WebhookDeliveryRecord.init(row:))
        }
    }

    /// Sends a delivery again (a failed one, or a delivered one the receiver lost), with the same `webhook-id` and body.
    public func replayWebhookDelivery(id: String, by account: Account) throws -> WebhookDeliveryRecord {
        guard account.role == .admin else { throw StorageError.forbidden }
        let now = self.now
        return try engine.write { db in
            guard try Row.fetchOne(db, sql: "SELECT id FROM webhook_delivery WHERE id = ?", arguments: [id]) != nil else {
                throw StorageError.notFound
            }
            try db.execute(
                sql: """
                    UPDATE webhook_delivery SET delivered_at = NULL, outcome = NULL, attempts = 0, next_attempt_at = NULL,
                    claimed_until = NULL, last_status = NULL, last_error = NULL, queued_at = ? WHERE id = ?
                    """,
                arguments: [now, id])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "webhook.replayed", subjectType: "webhook_delivery", subjectID: id,
                before: String?.none, after: id)
            guard
                let record = try Row.fetchOne(db, sql: "SELECT * FROM webhook_delivery WHERE id = ?", arguments: [id])
                    .flatMap(WebhookDeliveryRecord.init(row:))
            else { throw StorageError.notFound }
            return record
        }
    }

    /// Takes up to `limit` deliveries that are due, held for `lease` seconds, with their subscription's URL and secret.
    public func claimDueWebhooks(limit: Int, lease: TimeInterval) throws -> [(delivery: WebhookDeliveryRecord, url: String, secret: String)]
    {
        let now = self.now
        return try engine.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, s.url AS target, s.secret AS signing_key FROM webhook_delivery d
                    JOIN webhook_subscription s ON s.id = d.subscription_id
                    WHERE d.delivered_at IS NULL AND s.active = 1 AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)
                    AND (d.claimed_until IS NULL OR d.claimed_until <= ?) ORDER BY d.created_at, d.event_seq, d.id LIMIT ?
                    """,
                arguments: [now, now, max(limit, 0)])
            var claimed: [(WebhookDeliveryRecord, String, String)] = []
            for row in rows {
                guard let record = WebhookDeliveryRecord(row: row) else { continue }
                try db.execute(
                    sql: "UPDATE webhook_delivery SET claimed_until = ? WHERE id = ?",
                    arguments: [now.addingTimeInterval(lease), record.id])
                claimed.append((record, row["target"], row["signing_key"]))
            }
            return claimed
        }
    }

    /// Lets go of claimed deliveries that were not attempted (their receiver is failing): the next pass takes them.
    public func releaseWebhookClaims(ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try engine.write { db in
            try db.execute(
                sql: "UPDATE webhook_delivery SET claimed_until = NULL WHERE id IN (\(SQLConnection.marks(ids.count)))",
                arguments: SQLArguments(ids))
        }
    }

    /// Keeps the body of a delivery's first attempt (later attempts send the same bytes).
    public func keepWebhookPayload(id: String, payload: String) throws {
        try engine.write { db in
            try db.execute(sql: "UPDATE webhook_delivery SET payload = ? WHERE id = ? AND payload IS NULL", arguments: [payload, id])
        }
    }

    /// Records an attempt: delivered on a 2xx; otherwise tried again after a backoff (`DeliveryRules`), or marked
    /// failed three days after the event. Returns how it stands (nil: it will be tried again).
    @discardableResult
    public func recordWebhookAttempt(_ delivery: WebhookDeliveryRecord, status: Int?, error: String?, jitter: Double) throws
        -> WebhookDeliveryState?
    {
        let now = self.now
        let succeeded = status.map { (200..<300).contains($0) } ?? false
        return try engine.write { db in
            if succeeded {
                try db.execute(
                    sql: """
                        UPDATE webhook_delivery SET delivered_at = ?, outcome = 'delivered', attempts = attempts + 1, last_status = ?,
                        last_error = NULL, claimed_until = NULL WHERE id = ?
                        """,
                    arguments: [now, status, delivery.id])
                return .delivered
            }
            let detail = String((error ?? "HTTP \(status ?? 0)").prefix(500))
            guard
                let next = DeliveryRules.nextAttempt(
                    queued: delivery.queuedAt, failures: min(delivery.attempts, 1_000) + 1, now: now, jitter: jitter)
            else {
                try db.execute(
                    sql: """
                        UPDATE webhook_delivery SET delivered_at = ?, outcome = 'failed', attempts = attempts + 1, last_status = ?,
                        last_error = ?, claimed_until = NULL WHERE id = ?
                        """,
                    arguments: [now, status, detail, delivery.id])
                return .failed
            }
            try db.execute(
                sql: """
                    UPDATE webhook_delivery SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ?,
                    claimed_until = NULL WHERE id = ?
                    """,
                arguments: [next, status, detail, delivery.id])
            return nil
        }
    }

    /// Writes one delivery per subscription that wants each notice's event, in the change's transaction (a paused one's
    /// wait until it is resumed).
    static func enqueueWebhooks(_ notices: [Notice], _ db: SQLConnection, seq: Int64, at date: Date) throws {
        let events = notices.filter { !$0.kind.isReminder }
        guard !events.isEmpty else { return }
        let subscriptions = try Row.fetchAll(db, sql: "SELECT id, event_types FROM webhook_subscription")
        guard !subscriptions.isEmpty else { return }
        var snapshots: [String: String] = [:]
        for notice in events {
            for subscription in subscriptions {
                let wanted = (try? JSONDecoder().decode([String].self, from: Data((subscription["event_types"] as String).utf8))) ?? []
                guard wanted.contains(notice.kind.rawValue) else { continue }
                // The resource as the change left it, read once per event in the change's transaction.
                let key = "\(notice.kind == .cardSubmitted ? "card" : "mission") \(notice.subjectID)"
                if snapshots[key] == nil {
                    let snapshot: WebhookSnapshot =
                        notice.kind == .cardSubmitted
                        ? .card(try fetchCard(db, id: notice.subjectID), reviews: try reviewEntries(db, expertID: notice.subjectID))
                        : .mission(try missionRecord(db, id: notice.subjectID))
                    snapshots[key] = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
                }
                try db.execute(
                    sql: """
                        INSERT INTO webhook_delivery (id, subscription_id, event_type, subject_id, event_seq, created_at, queued_at, snapshot)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        "msg_" + newID().replacingOccurrences(of: "-", with: ""), subscription["id"], notice.kind.rawValue,
                        notice.subjectID, seq,
                        date, date, snapshots[key],
                    ])
            }
        }
    }

    static func checkedSubscription(url: String, eventTypes: [String], description: String) throws -> [NoticeKind] {
        guard WebhookRules.isDeliverable(url: url) else { throw WebhookError.badURL }
        guard !eventTypes.isEmpty else { throw WebhookError.noEventTypes }
        var kinds: [NoticeKind] = []
        for type in eventTypes {
            guard let kind = NoticeKind(rawValue: type), !kind.isReminder else { throw WebhookError.unknownEventType(type) }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard description.count <= 500 else { throw WebhookError.descriptionTooLong }
        return kinds
    }

    static func webhookSubscription(_ db: SQLConnection, id: String) throws -> WebhookSubscription {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM webhook_subscription WHERE id = ?", arguments: [id]) else {
            throw StorageError.notFound
        }
        return WebhookSubscription(row: row)
    }
}

extension WebhookSubscription {
    init(row: Row) {
        let types = (try? JSONDecoder().decode([String].self, from: Data((row["event_types"] as String).utf8))) ?? []
        self.init(
            id: row["id"], url: row["url"], eventTypes: types.compactMap(NoticeKind.init(rawValue:)), description: row["description"],
            active: (row["active"] as Int) == 1, revision: row["revision"], createdAt: row["created_at"])
    }
}

extension WebhookDeliveryRecord {
    init?(row: Row) {
        guard let kind = NoticeKind(rawValue: row["event_type"]) else { return nil }
        let outcome: String? = row["outcome"]
        self.init(
            id: row["id"], subscriptionID: row["subscription_id"], eventType: kind, subjectID: row["subject_id"],
            createdAt: row["created_at"],
            attempts: row["attempts"], state: outcome.flatMap(WebhookDeliveryState.init(rawValue:)) ?? .waiting,
            nextAttemptAt: row["next_attempt_at"], deliveredAt: row["delivered_at"], lastStatus: row["last_status"],
            lastError: row["last_error"],
            payload: row["payload"],
            snapshot: (row["snapshot"] as String?).flatMap { try? JSONDecoder().decode(WebhookSnapshot.self, from: Data($0.utf8)) },
            queuedAt: row["queued_at"] ?? row["created_at"])
    }
}
