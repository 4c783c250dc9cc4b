import Crypto
import Domain
import Foundation
import GRDB

/// One entry of the append-only audit log: who did what to which subject, when, with digests of the subject before
/// and after. Each entry's hash covers the previous entry's hash, so any edit or deletion breaks the chain.
public struct AuditEvent: Sendable, Hashable {
    public let seq: Int64
    public let at: String
    public let actorID: String?
    public let action: String
    public let subjectType: String
    public let subjectID: String
    public let beforeDigest: String?
    public let afterDigest: String?
    public let previousHash: String
    public let hash: String
    /// The acting account's display name and role as they are now (nil for the command line, imports, demo data).
    public let actorName: String?
    public let actorRole: Role?
    /// The laureate the acting account is a member of, if it is one.
    public let actorLaureateID: String?

    init(row: Row) {
        seq = row["seq"]
        at = row["at"]
        actorID = row["actor_id"]
        action = row["action"]
        subjectType = row["subject_type"]
        subjectID = row["subject_id"]
        beforeDigest = row["before_digest"]
        afterDigest = row["after_digest"]
        previousHash = row["prev_hash"]
        hash = row["hash"]
        actorName = row["actor_name"]
        actorRole = (row["actor_role"] as String?).flatMap(Role.init(rawValue:))
        actorLaureateID = row["actor_laureate"]
    }

    /// The hash an entry must carry: SHA-256 over its fields and the previous hash, one per line.
    static func expectedHash(
        seq: Int64, at: String, actorID: String?, action: String, subjectType: String, subjectID: String, before: String?, after: String?,
        previous: String
    ) -> String {
        let line = [String(seq), at, actorID ?? "", action, subjectType, subjectID, before ?? "", after ?? "", previous].joined(
            separator: "\n")
        return Audit.hex(SHA256.hash(data: Data(line.utf8)))
    }

    var recomputedHash: String {
        Self.expectedHash(
            seq: seq, at: at, actorID: actorID, action: action, subjectType: subjectType, subjectID: subjectID, before: beforeDigest,
            after: afterDigest, previous: previousHash)
    }
}

/// What `mdp audit verify` finds.
public enum AuditVerification: Sendable, Hashable {
    case intact(events: Int)
    /// The first entry whose hash or link does not hold.
    case broken(seq: Int64, reason: String)
}

enum Audit {
    static let genesis = String(repeating: "0", count: 64)

    static func hex(_ digest: some Sequence<UInt8>) -> String { Hex.string(digest) }

    /// The digest of a subject's state, from its canonical JSON.
    static func digest(_ value: (some Encodable)?) throws -> String? {
        guard let value else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return hex(SHA256.hash(data: try encoder.encode(value)))
    }

    /// UTC, milliseconds: the text that enters the hash, so it never depends on a locale.
    static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

extension AppDatabase {
    /// Appends an event in the caller's transaction: the change and its record commit together or not at all.
    static func appendEvent(
        _ db: SQLConnection, at date: Date, actorID: String?, action: String, subjectType: String, subjectID: String,
        before: (some Encodable)?, after: (some Encodable)?
    ) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let previous: String = last?["hash"] ?? Audit.genesis
        let at = Audit.timestamp.format(date)
        let beforeDigest = try Audit.digest(before)
        let afterDigest = try Audit.digest(after)
        let hash = AuditEvent.expectedHash(
            seq: seq, at: at, actorID: actorID, action: action, subjectType: subjectType, subjectID: subjectID, before: beforeDigest,
            after: afterDigest, previous: previous)
        try db.execute(
            sql: """
                INSERT INTO event (seq, at, actor_id, action, subject_type, subject_id, before_digest, after_digest, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [seq, at, actorID, action, subjectType, subjectID, beforeDigest, afterDigest, previous, hash])
    }

    /// Walks the whole chain and names the first entry that does not hold.
    public func verifyAuditChain() throws -> AuditVerification {
        try engine.read { db in
            var previous = Audit.genesis
            var expectedSeq: Int64 = 1
            var count = 0
            var last: Int64 = 0
            // In pages, so a long chain never sits whole in memory.
            while case let page = try Row.fetchAll(
                db, sql: "SELECT * FROM event WHERE seq > ? ORDER BY seq LIMIT 1000", arguments: [last]
            ).map(AuditEvent.init(row:)),
                !page.isEmpty
            {
                for event in page {
                    last = event.seq
                    if event.seq != expectedSeq {
                        return .broken(seq: expectedSeq, reason: "entry \(expectedSeq) is missing")
                    }
                    if event.previousHash != previous {
                        return .broken(seq: event.seq, reason: "it does not follow the entry before it")
                    }
                    if event.recomputedHash != event.hash {
                        return .broken(seq: event.seq, reason: "its content does not match its hash")
                    }
                    previous = event.hash
                    expectedSeq += 1
                    count += 1
                }
            }
            return .intact(events: count)
        }
    }

    /// Events after `seq`, oldest first, for the programme team.
    public func events(after seq: Int64, limit: Int) throws -> [AuditEvent] {
        try events(EventFilter(), after: seq, limit: limit).events
    }

    /// The events `filter` keeps, in its order, after the event numbered `cursor` (in that order), with whether more
    /// follow.
    public func events(_ filter: EventFilter, after cursor: Int64?, limit: Int) throws -> (events: [AuditEvent], more: Bool) {
        var conditions: [String] = []
        var arguments: SQLArguments = []
        func add(_ condition: String, _ values: [(any DatabaseValueConvertible)?]) {
            conditions.append(condition)
            arguments += SQLArguments(values)
        }
        if let cursor { add(filter.newestFirst ? "event.seq < ?" : "event.seq > ?", [cursor]) }
        if let subjectType = filter.subjectType { add("event.subject_type = ?", [subjectType]) }
        if let subjectID = filter.subjectID { add("event.subject_id = ?", [subjectID]) }
        if let actorID = filter.actorID { add("event.actor_id = ?", [actorID]) }
        if let action = filter.action {
            if action.hasSuffix(".") {
                add("substr(event.action, 1, length(?)) = ?", [action, action])
            } else {
                add("event.action = ?", [action])
            }
        }
        // Times are stored as UTC ISO 8601 text with milliseconds, one width: compared as text.
        if let since = filter.since { add("event.at >= ?", [Audit.timestamp.format(since)]) }
        if let until = filter.until { add("event.at < ?", [Audit.timestamp.format(until)]) }
        if let laureate = filter.laureateID {
            add(
                """
                ((event.subject_type = 'laureate' AND event.subject_id = ?)
                 OR (event.subject_type = 'mission' AND event.subject_id IN (SELECT mission_id FROM mission_participant WHERE laureate_id = ?))
                 OR (event.subject_type = 'document' AND event.subject_id IN (SELECT id FROM document WHERE laureate_id = ?))
                 OR (event.subject_type = 'user' AND event.subject_id IN (SELECT id FROM account WHERE laureate_id = ?)))
                """, [laureate, laureate, laureate, laureate])
        }
        if let expert = filter.expertID {
            add(
                """
                ((event.subject_type = 'expert' AND event.subject_id = ?)
                 OR (event.subject_type = 'mission' AND event.subject_id IN (SELECT id FROM mission WHERE expert_id = ?))
                 OR (event.subject_type = 'document' AND event.subject_id IN
                       (SELECT id FROM document WHERE mission_id IN (SELECT id FROM mission WHERE expert_id = ?)))
                 OR (event.subject_type = 'user' AND event.subject_id IN (SELECT id FROM account WHERE expert_id = ?)))
                """, [expert, expert, expert, expert])
        }
        if let laureates = filter.actorLaureates {
            let marks = SQLConnection.marks(laureates.count)
            add(
                laureates.isEmpty ? "account.laureate_id IS NULL" : "(account.laureate_id IS NULL OR account.laureate_id IN (\(marks)))",
                laureates.sorted())
        }
        arguments += [limit + 1]
        let sql = """
            SELECT event.*, account.display_name AS actor_name, account.role AS actor_role, account.laureate_id AS actor_laureate
            FROM event LEFT JOIN account ON account.id = event.actor_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY event.seq \(filter.newestFirst ? "DESC" : "ASC") LIMIT ?
            """
        return try engine.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            return (rows.prefix(limit).map(AuditEvent.init), rows.count > limit)
        }
    }
}

/// Digests as lowercase hexadecimal, the one spelling used for SHA-256 everywhere (tokens, blobs, audit, idempotency).
public enum Hex {
    public static func string(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// What the programme team asks of the audit log; every field narrows it, nil keeps everything.
public struct EventFilter: Sendable, Hashable {
    public var subjectType: String?
    public var subjectID: String?
    public var actorID: String?
    /// One action, or a family of actions when it ends with a dot (`mission.`).
    public var action: String?
    public var since: Date?
    public var until: Date?
    /// A laureate's timeline: itself, its members' accounts, its missions and its documents.
    public var laureateID: String?
    /// An expert's timeline: its card, its account, its missions and their files.
    public var expertID: String?
    /// Only the steps of accounts outside any laureate or in one of these (nil: every step), as
    /// `Mission.timelineLaureates(visibleTo:)` says for a mission's timeline.
    public var actorLaureates: Set<String>?
    public var newestFirst: Bool

    public init(
        subjectType: String? = nil, subjectID: String? = nil, actorID: String? = nil, action: String? = nil, since: Date? = nil,
        until: Date? = nil, laureateID: String? = nil, expertID: String? = nil, newestFirst: Bool = false
    ) {
        self.subjectType = subjectType
        self.subjectID = subjectID
        self.actorID = actorID
        self.action = action
        self.since = since
        self.until = until
        self.laureateID = laureateID
        self.expertID = expertID
        self.newestFirst = newestFirst
    }

    /// What is wrong with the filter, by query parameter (as `DirectoryQuery.errors()`): an action of 1 to 100
    /// characters, a window that ends after it starts.
    public func errors() -> [FieldError] {
        var errors: [FieldError] = []
        if let action, action.isEmpty || action.count > 100 {
            errors.append(FieldError("/action", "out_of_range", "An action is 1 to 100 characters."))
        }
        if let since, let until, until <= since {
            errors.append(FieldError("/until", "before_since", "until comes after since."))
        }
        return errors
    }
}
