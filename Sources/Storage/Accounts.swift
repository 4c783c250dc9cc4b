import Domain
import Foundation
import GRDB

/// A bearer token just issued: the secret is returned once and never stored.
public struct IssuedToken: Sendable {
    public let secret: String
    public let record: TokenRecord
    public let account: Account
}

/// A stored token, without its secret.
public struct TokenRecord: Sendable, Hashable {
    public let id: String
    public let kind: String
    public let name: String?
    public let createdAt: Date
    public let expiresAt: Date
    public let revokedAt: Date?
    public let lastUsedAt: Date?

    init(row: Row) {
        id = row["id"]
        kind = row["kind"]
        name = row["name"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
        revokedAt = row["revoked_at"]
        lastUsedAt = row["last_used_at"]
    }
}

/// Who a valid token belongs to.
public struct Authenticated: Sendable, Hashable {
    public let account: Account
    public let tokenID: String
}

extension AppDatabase {
    /// Failed logins allowed per account and per address in `throttleWindow`.
    public static let throttleLimit = 5
    public static let throttleWindow: TimeInterval = 15 * 60

    static func account(from row: Row) -> Account {
        let link: AccountLink =
            if let expert: String = row["expert_id"] {
                .expert(id: expert)
            } else if let laureate: String = row["laureate_id"] {
                .laureate(id: laureate)
            } else {
                .none
            }
        return Account(
            id: row["id"], email: row["email"], role: Role(rawValue: row["role"]) ?? .expert, displayName: row["display_name"],
            link: link)
    }

    /// Creates an account (the programme team's bootstrap, laureate members, the sync service).
    /// A password is optional: an account without one can only use tokens issued for it.
    /// A new account; `actor` is who creates it (the team for a laureate's member), nil from the command line.
    public func createAccount(
        email: String, password: String?, role: Role, displayName: String, link: AccountLink = .none, by actor: Account? = nil
    ) throws -> Account {
        let email = Credentials.normalisedEmail(email)
        var errors = Credentials.errors(email: email, password: password ?? String(repeating: "x", count: 12))
        if displayName.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors.append(FieldError("/display_name", "required", "An account has a display name."))
        }
        if let reserved = Erasure.reservedNameError(displayName, at: "/display_name") { errors.append(reserved) }
        guard errors.isEmpty else { throw StorageError.invalid(errors) }
        let hash = password.map { Secrets.hashPassword($0, cost: options.bcryptCost) }
        let id = Self.newID()
        let now = self.now
        try write { db in
            guard try !Self.emailExists(db, email) else { throw StorageError.emailTaken }
            try db.execute(
                sql: """
                    INSERT INTO account (id, email, password_hash, role, display_name, expert_id, laureate_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, email, hash, role.rawValue, displayName, Self.expertID(link), Self.laureateID(link), now])
            try Self.appendEvent(
                db, at: now, actorID: actor?.id, action: "account.created", subjectType: "user", subjectID: id, before: String?.none,
                after: ["email": email, "role": role.rawValue, "display_name": displayName])
        }
        return Account(id: id, email: email, role: role, displayName: displayName, link: link)
    }

    static func emailExists(_ db: SQLConnection, _ email: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account WHERE email = ?)", arguments: [email]) ?? false
    }

    static func expertID(_ link: AccountLink) -> String? {
        if case .expert(let id) = link { return id }
        return nil
    }

    static func laureateID(_ link: AccountLink) -> String? {
        if case .laureate(let id) = link { return id }
        return nil
    }

    /// A password login: throttled per account and per address, then a session token on success. Each attempt is
    /// counted as a failure before its password is checked (and the count forgiven on success), in the write that
    /// checks the count: attempts sent at once, to one instance or several, are counted one after another.
    public func login(email: String, password: String, address: String) throws -> IssuedToken {
        let email = Credentials.normalisedEmail(email)
        let now = self.now
        let since = now.addingTimeInterval(-Self.throttleWindow)
        let row: Row? = try engine.write { db in
            // Blocked while `throttleLimit` failures stand in the window: until the one that makes the count drop expires.
            var until: Date?
            for (column, value) in [("email", email), ("address", address)] {
                let failures = try Date.fetchAll(
                    db, sql: "SELECT at FROM login_failure WHERE \(column) = ? AND at > ? ORDER BY at",
                    arguments: [value, since])
                if failures.count >= Self.throttleLimit {
                    let expiry = failures[failures.count - Self.throttleLimit].addingTimeInterval(Self.throttleWindow)
                    until = max(until ?? expiry, expiry)
                }
            }
            if let until {
                throw StorageError.throttled(retryAfter: max(1, Int(until.timeIntervalSince(now).rounded(.up))))
            }
            try db.execute(sql: "INSERT INTO login_failure (email, address, at) VALUES (?, ?, ?)", arguments: [email, address, now])
            try db.execute(sql: "DELETE FROM login_failure WHERE at < ?", arguments: [since])
            return try Row.fetchOne(db, sql: "SELECT * FROM account WHERE email = ?", arguments: [email])
        }
        // Verified whether or not the account exists (a decoy hash of the same cost), so timing tells nothing.
        let matches = Secrets.verify(password, hash: row?["password_hash"], cost: options.bcryptCost)
        guard let row, matches else { throw StorageError.invalidCredentials }
        let account = Self.account(from: row)
        return try write { db in
            try db.execute(sql: "DELETE FROM login_failure WHERE email = ?", arguments: [email])
            return try issueToken(db, account: account, kind: "session", name: nil, lifetime: options.sessionLifetime)
        }
    }

    func issueToken(_ db: SQLConnection, account: Account, kind: String, name: String?, lifetime: TimeInterval) throws -> IssuedToken {
        let secret = Secrets.newToken()
        let now = self.now
        let id = Self.newID()
        try db.execute(
            sql: "INSERT INTO token (id, user_id, hash, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [id, account.id, Secrets.tokenHash(secret), kind, name, now, now.addingTimeInterval(lifetime)])
        let row = try Row.fetchOne(db, sql: "SELECT * FROM token WHERE id = ?", arguments: [id])!
        if kind != "session" {
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "token.issued", subjectType: "user", subjectID: account.id, before: String?.none,
                after: ["token_id": id, "kind": kind, "name": name ?? ""])
        }
        return IssuedToken(secret: secret, record: TokenRecord(row: row), account: account)
    }

    /// The account behind a bearer token, or nil when the token is unknown, expired or revoked.
    public func authenticate(token: String) throws -> Authenticated? {
        let hash = Secrets.tokenHash(token)
        let now = self.now
        let found: (Authenticated, Date?)? = try engine.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT account.*, token.id AS token_id, token.last_used_at FROM token JOIN account ON account.id = token.user_id
                        WHERE token.hash = ? AND token.revoked_at IS NULL AND token.expires_at > ?
                        """, arguments: [hash, now])
            else { return nil }
            return (Authenticated(account: Self.account(from: row), tokenID: row["token_id"]), row["last_used_at"])
        }
        guard let (authenticated, lastUsed) = found else { return nil }
        if lastUsed.map({ now.timeIntervalSince($0) > 300 }) ?? true {
            try engine.write { db in
                try db.execute(sql: "UPDATE token SET last_used_at = ? WHERE id = ?", arguments: [now, authenticated.tokenID])
            }
        }
        return authenticated
    }

    /// Revokes one token of `userID`; another user's token is not found.
    public func revokeToken(id: String, userID: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE token SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ?",
                arguments: [now, id, userID])
            guard db.changesCount == 1 else { throw StorageError.notFound }
            try Self.appendEvent(
                db, at: now, actorID: userID, action: "token.revoked", subjectType: "user", subjectID: userID, before: String?.none,
                after: ["token_id": id])
        }
    }

    /// A personal access token for an integration, named, expiring in 1 to 365 days.
    public func createPersonalToken(for account: Account, name: String, days: Int) throws -> IssuedToken {
        var errors: [FieldError] = []
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if !(1...100).contains(trimmed.count) {
            errors.append(FieldError("/name", "required", "A token has a name of 1 to 100 characters."))
        }
        if !(1...365).contains(days) {
            errors.append(FieldError("/expires_in_days", "out_of_range", "A token lives 1 to 365 days."))
        }
        guard errors.isEmpty else { throw StorageError.invalid(errors) }
        return try write { db in
            try issueToken(db, account: account, kind: "personal", name: trimmed, lifetime: TimeInterval(days) * 86_400)
        }
    }

    /// A long-lived token for a service account (the sync engine), issued by the operator.
    public func createServiceToken(for account: Account, name: String, days: Int) throws -> IssuedToken {
        try write { db in
            try issueToken(db, account: account, kind: "service", name: name, lifetime: TimeInterval(days) * 86_400)
        }
    }

    /// The personal tokens of `userID`, newest first.
    public func personalTokens(userID: String) throws -> [TokenRecord] {
        try engine.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM token WHERE user_id = ? AND kind = 'personal' ORDER BY created_at DESC, id",
                arguments: [userID]
            ).map(TokenRecord.init)
        }
    }

    /// The account with this e-mail, if any.
    public func account(email: String) throws -> Account? {
        try engine.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account WHERE email = ?", arguments: [Credentials.normalisedEmail(email)])
                .map(Self.account)
        }
    }
}

extension AppDatabase {
    /// Every stored column of the token table as text, for tests that check no secret is kept.
    public func debugDumpOfTokenTable() throws -> String {
        try engine.read { db in try Row.fetchAll(db, sql: "SELECT * FROM token").map(\.description).joined(separator: "\n") }
    }
}
