import Domain
import Foundation
import GRDB

/// An expert card as stored: its answers, where it stands, and its revision (the base of its ETag).
public struct ExpertCardRecord: Sendable, Hashable, Codable {
    public let id: String
    public let slug: String
    public let state: CardState
    public let content: ExpertCardContent
    /// The programme team's last message to the expert.
    public let message: String?
    public let revision: Int64
    public let createdAt: Date
    public let updatedAt: Date
    public let publishedAt: Date?

    init(row: Row) throws {
        id = row["id"]
        slug = row["slug"]
        state = CardState(rawValue: row["state"]) ?? .draft
        content = try JSONDecoder().decode(ExpertCardContent.self, from: Data((row["content"] as String).utf8))
        message = row["message"]
        revision = row["revision"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        publishedAt = row["published_at"]
    }
}

/// One step of a card's review, as the programme team sees it.
public struct ReviewEntry: Sendable, Hashable, Codable {
    public let action: CardAction
    public let authorID: String
    public let at: Date
    public let message: String?
    public let note: String?
}

extension AppDatabase {
    static func encode(_ content: ExpertCardContent) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(content), as: UTF8.self)
    }

    /// Registration: the expert's account, a draft card with their name and e-mail, and a session, in one transaction.
    public func signUpExpert(email: String, password: String, firstName: String, lastName: String, address: String = "unknown") throws
        -> (IssuedToken, ExpertCardRecord)
    {
        let email = Credentials.normalisedEmail(email)
        try throttleSignUp(from: address)
        var errors = Credentials.errors(email: email, password: password)
        for (pointer, value) in [("/first_name", firstName), ("/last_name", lastName)]
        where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors.append(FieldError(pointer, "required", "A name is required."))
        }
        if let reserved = Erasure.reservedNameError("\(firstName) \(lastName)", at: "/last_name") { errors.append(reserved) }
        guard errors.isEmpty else { throw StorageError.invalid(errors) }
        let hash = Secrets.hashPassword(password, cost: options.bcryptCost)
        let content = ExpertCardContent(firstName: firstName, lastName: lastName, contact: ContactDetails(email: email))
        let result = try write { db -> (IssuedToken, ExpertCardRecord) in
            guard try !Self.emailExists(db, email) else { throw StorageError.emailTaken }
            let expertID = try insertExpert(db, content: content, state: .draft)
            let account = Account(
                id: Self.newID(), email: email, role: .expert, displayName: "\(firstName) \(lastName)", link: .expert(id: expertID))
            try db.execute(
                sql:
                    "INSERT INTO account (id, email, password_hash, role, display_name, expert_id, created_at) VALUES (?, ?, ?, 'expert', ?, ?, ?)",
                arguments: [account.id, email, hash, account.displayName, expertID, now])
            let token = try issueToken(db, account: account, kind: "session", name: nil, lifetime: options.sessionLifetime)
            let card = try Self.fetchCard(db, id: expertID)
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "expert.signed_up", subjectType: "expert", subjectID: expertID,
                before: ExpertCardContent?.none, after: card.content)
            try Self.announceDirectoryChange(db)
            return (token, card)
        }
        directory.invalidate()
        return result
    }

    /// Inserts a card with a slug unique among all cards; returns its id.
    func insertExpert(_ db: SQLConnection, content: ExpertCardContent, state: CardState, publishedAt: Date? = nil) throws -> String {
        let base = Slug.make("\(content.firstName) \(content.lastName)")
        let taken = Set(
            try String.fetchAll(
                db, sql: "SELECT slug FROM expert WHERE slug = ? OR slug LIKE ? ESCAPE '\\'", arguments: [base, base + "-%"]))
        let id = Self.newID()
        let now = self.now
        try db.execute(
            sql: """
                INSERT INTO expert (id, slug, state, content, revision, created_at, updated_at, published_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, Slug.unique("\(content.firstName) \(content.lastName)", taken: taken), state.rawValue, try Self.encode(content),
                try Self.nextRevision(db), now, now, publishedAt ?? (state == .published ? now : nil),
            ])
        return id
    }

    static func fetchCard(_ db: SQLConnection, id: String) throws -> ExpertCardRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM expert WHERE id = ?", arguments: [id]) else {
            throw StorageError.notFound
        }
        return try ExpertCardRecord(row: row)
    }

    /// A card, for its own expert and the programme team only: anyone else is told it does not exist.
    public func expertCard(id: String, for account: Account) throws -> ExpertCardRecord {
        guard CardWorkflow.canRead(account.cardActor(for: id)) else { throw StorageError.notFound }
        return try engine.read { db in
            // An erased person's card is a record of its missions only: no longer a card anyone reads.
            guard try Bool.fetchOne(db, sql: "SELECT erased_at IS NULL FROM expert WHERE id = ?", arguments: [id]) == true else {
                throw StorageError.notFound
            }
            return try Self.fetchCard(db, id: id)
        }
    }

    /// The expert changes their answers, based on the revision they read.
    public func updateExpertCard(
        id: String, by account: Account, ifRevision expected: Int64?, change: @Sendable (inout ExpertCardContent) -> Void
    ) throws -> ExpertCardRecord {
        let actor = account.cardActor(for: id)
        guard CardWorkflow.canRead(actor) else { throw StorageError.notFound }
        guard actor == .owner else { throw StorageError.forbidden }
        let record = try write { db -> ExpertCardRecord in
            let card = try Self.fetchCard(db, id: id)
            if let expected, card.revision != expected { throw StorageError.stale(current: card.revision) }
            guard CardWorkflow.canEdit(card.state, actor: actor) else { throw StorageError.card(.notEditable(card.state)) }
            var content = card.content
            change(&content)
            let errors = content.shapeErrors()
            guard errors.isEmpty else { throw StorageError.invalid(errors) }
            try db.execute(
                sql: "UPDATE expert SET content = ?, revision = ?, updated_at = ? WHERE id = ?",
                arguments: [try Self.encode(content), try Self.nextRevision(db), now, id])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "expert.edited", subjectType: "expert", subjectID: id, before: card.content,
                after: content)
            try Self.announceDirectoryChange(db)
            return try Self.fetchCard(db, id: id)
        }
        directory.invalidate()
        return record
    }

    /// Moves a card through its lifecycle, as the Domain table allows, based on the revision the caller read.
    public func transitionExpertCard(
        id: String, action: CardAction, by account: Account, ifRevision expected: Int64?, message: String?, note: String?
    ) throws -> ExpertCardRecord {
        let actor = account.cardActor(for: id)
        guard CardWorkflow.canRead(actor) else { throw StorageError.notFound }
        guard CardWorkflow.mayEver(action, actor) else { throw StorageError.forbidden }
        let message = message?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        if CardWorkflow.requiresMessage(action) && message == nil {
            throw StorageError.invalid([FieldError("/message", "required", "Tell the expert what to change.")])
        }
        let record = try write { db -> ExpertCardRecord in
            let card = try Self.fetchCard(db, id: id)
            if let expected, card.revision != expected { throw StorageError.stale(current: card.revision) }
            let next: CardState
            do throws(CardError) {
                if action == .submit {
                    next = try CardWorkflow.submit(card.content, from: card.state, actor: actor)
                } else {
                    next = try CardWorkflow.next(from: card.state, action: action, actor: actor)
                }
            } catch {
                throw StorageError.card(error)
            }
            let now = self.now
            let published: Date? = next == .published ? (card.publishedAt ?? now) : card.publishedAt
            let shownMessage: String? = actor == .admin ? message : (action == .submit ? nil : card.message)
            try db.execute(
                sql: "UPDATE expert SET state = ?, message = ?, revision = ?, updated_at = ?, published_at = ? WHERE id = ?",
                arguments: [next.rawValue, shownMessage, try Self.nextRevision(db), now, published, id])
            try db.execute(
                sql: "INSERT INTO expert_review (expert_id, author_id, action, message, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                // The review notes are the programme team's: what an expert sends is its message, never a private note.
                arguments: [id, account.id, action.rawValue, message, actor == .admin ? note?.nilIfEmpty : nil, now])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "expert.\(action.rawValue)", subjectType: "expert", subjectID: id,
                before: card.state.rawValue, after: next.rawValue)
            let lastAnnounced = try Date.fetchOne(
                db, sql: "SELECT max(created_at) FROM outbox WHERE kind = ? AND subject_id = ?",
                arguments: [NoticeKind.cardSubmitted.rawValue, id])
            try Self.enqueue(NotificationRules.notices(ofCard: action, expertID: id, lastAnnounced: lastAnnounced, now: now), db, at: now)
            try Self.announceDirectoryChange(db)
            return try Self.fetchCard(db, id: id)
        }
        directory.invalidate()
        return record
    }

    /// Every step of a card's review with the programme team's private notes: admins only.
    public func reviewEntries(expertID: String) throws -> [ReviewEntry] {
        try engine.read { db in try Self.reviewEntries(db, expertID: expertID) }
    }

    static func reviewEntries(_ db: SQLConnection, expertID: String) throws -> [ReviewEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM expert_review WHERE expert_id = ? ORDER BY id", arguments: [expertID]).map {
            ReviewEntry(
                action: CardAction(rawValue: $0["action"]) ?? .submit, authorID: $0["author_id"], at: $0["at"], message: $0["message"],
                note: $0["note"])
        }
    }

    /// Cards for the programme team, least recently changed first; `after` is the last revision of the previous page.
    public func expertCards(state: CardState?, after: Int64?, limit: Int) throws -> (cards: [ExpertCardRecord], next: Int64?) {
        try engine.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM expert WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1) AND revision > ?2 AND erased_at IS NULL
                    ORDER BY revision LIMIT ?3
                    """, arguments: [state?.rawValue, after ?? 0, limit + 1])
            let cards = try rows.prefix(limit).map(ExpertCardRecord.init)
            return (cards, rows.count > limit ? cards.last?.revision : nil)
        }
    }

    /// Counts a sign-up attempt from `address` and refuses it (429) past `signupsPerAddress` in the throttle window,
    /// before any bcrypt work: sign-ups are throttled like logins.
    func throttleSignUp(from address: String) throws {
        let now = self.now
        let since = now.addingTimeInterval(-Self.throttleWindow)
        let limit = options.signupsPerAddress
        let blockedUntil: Date? = try engine.write { db in
            try db.execute(sql: "DELETE FROM signup_attempt WHERE at <= ?", arguments: [since])
            let attempts = try Date.fetchAll(
                db, sql: "SELECT at FROM signup_attempt WHERE address = ? ORDER BY at", arguments: [address])
            if attempts.count >= limit {
                return attempts[attempts.count - limit].addingTimeInterval(Self.throttleWindow)
            }
            try db.execute(sql: "INSERT INTO signup_attempt (address, at) VALUES (?, ?)", arguments: [address, now])
            return nil
        }
        if let blockedUntil {
            throw StorageError.throttled(retryAfter: max(1, Int(blockedUntil.timeIntervalSince(now).rounded(.up))))
        }
    }

    /// The channel on which a PostgreSQL transaction that changed expert cards tells the other instances, on commit.
    static let directoryChannel = "mdp_directory"

    /// Tells the other instances, when this transaction commits, that the directory changed (PostgreSQL; an embedded
    /// database has no other instance).
    static func announceDirectoryChange(_ db: SQLConnection) throws {
        guard db.dialect == .postgres else { return }
        try db.execute(sql: "SELECT pg_notify(?, current_schema())", arguments: [directoryChannel])
    }

    /// The public directory when no write happened since it was last built (no database access), else nil.
    public func cachedDirectoryIndex() -> DirectoryIndex? { directory.cached() }

    /// The public directory as of the last committed write.
    public func directoryIndex() throws -> DirectoryIndex {
        try directory.index {
            try engine.read { db in
                let revision = try Int64.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'revision'") ?? 0
                let experts = try Row.fetchAll(db, sql: "SELECT * FROM expert WHERE state = 'published'").map { row in
                    let card = try ExpertCardRecord(row: row)
                    return PublicExpert(
                        id: card.id, slug: card.slug, content: card.content, publishedAt: card.publishedAt ?? card.updatedAt)
                }
                return DirectoryIndex(experts: experts, revision: revision)
            }
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
