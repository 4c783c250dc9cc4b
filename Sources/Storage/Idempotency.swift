import Foundation
import GRDB

/// A response kept for an `Idempotency-Key`, replayed to retries of the same request.
public struct StoredResponse: Sendable, Hashable {
    public let status: Int
    public let headers: [[String]]
    public let body: Data

    public init(status: Int, headers: [[String]], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// What to do with a request carrying an `Idempotency-Key`.
public enum IdempotencyDecision: Sendable, Hashable {
    /// First time: run it, then `finishIdempotent` (or `abandonIdempotent` when it failed on our side).
    case proceed
    /// Seen and done: answer this again.
    case replay(StoredResponse)
    /// The key was used for another request.
    case mismatch
    /// The first request with this key is still running.
    case inProgress
}

/// The `Idempotency-Key` of the request a blocking thread is serving: the write that carries the request out marks the
/// key as applied in its own transaction, so after a crash the key is either free (nothing was applied) or known done.
public enum IdempotencyClaim {
    public struct Key: Sendable, Hashable {
        public let scope: String
        public let key: String
        /// Which request holds the key: after a lease a retry may take it over, and the first request's writes then
        /// no longer count as carrying it out.
        public let claim: String
        public init(scope: String, key: String, claim: String = "") {
            self.scope = scope
            self.key = key
            self.claim = claim
        }
    }

    private final class Box {
        let key: Key
        init(_ key: Key) { self.key = key }
    }

    private static let slot = "mdp.idempotency-claim"

    /// Runs `body` with `key` as the current thread's claim (none when nil).
    public static func with<T>(_ key: Key?, _ body: () throws -> T) rethrows -> T {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[slot]
        dictionary[slot] = key.map(Box.init)
        defer { dictionary[slot] = previous }
        return try body()
    }

    static var current: Key? { (Thread.current.threadDictionary[slot] as? Box)?.key }
}

extension AppDatabase {
    /// A write transaction that carries out a request: when the request has an `Idempotency-Key`, the key is marked as
    /// applied in the same transaction. Side writes (throttling counters, token use times) use `engine.write`.
    func write<T>(_ updates: (SQLConnection) throws -> T) throws -> T {
        let claim = IdempotencyClaim.current
        let now = self.now
        return try engine.write { db in
            let value = try updates(db)
            if let claim {
                try db.execute(
                    sql: """
                        UPDATE idempotency SET applied_at = coalesce(applied_at, ?)
                        WHERE scope = ? AND key = ? AND status IS NULL AND claim = ?
                        """,
                    arguments: [now, claim.scope, claim.key, claim.claim])
                // A retry took the key over after the lease (this request ran longer than any should): it carries the
                // request out, not this one.
                guard db.changesCount == 1 else { throw StorageError.claimLost }
            }
            return value
        }
    }

    /// How long a key is remembered.
    public static let idempotencyLifetime: TimeInterval = 24 * 3600
    /// How long a request may hold its key before a retry takes it over: longer than any request runs (nginx gives
    /// up after 120 s), so only the claim of a request whose instance died is taken over.
    public static let idempotencyLease: TimeInterval = 600

    /// Claims `key` for `scope` (the caller) and this request's `fingerprint` under `claim`, in one transaction. A key
    /// held past the lease by a request that never finished (its instance died; other instances go on) is taken over
    /// when nothing was applied, or answered `answerLost` when its write was committed.
    public func beginIdempotent(
        scope: String, key: String, fingerprint: String, claim: String = "",
        answerLost: StoredResponse = StoredResponse(status: 409, headers: [], body: Data())
    ) throws -> IdempotencyDecision {
        let now = self.now
        return try engine.write { db in
            try db.execute(
                sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [now.addingTimeInterval(-Self.idempotencyLifetime)])
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM idempotency WHERE scope = ? AND key = ?", arguments: [scope, key]) {
                guard row["fingerprint"] == fingerprint else { return .mismatch }
                if let status: Int = row["status"] {
                    let headers = try JSONDecoder().decode([[String]].self, from: Data((row["headers"] as String? ?? "[]").utf8))
                    return .replay(StoredResponse(status: status, headers: headers, body: row["body"] ?? Data()))
                }
                guard (row["created_at"] as Date) < now.addingTimeInterval(-Self.idempotencyLease) else { return .inProgress }
                if (row["applied_at"] as Date?) == nil {
                    try db.execute(
                        sql: "UPDATE idempotency SET claim = ?, created_at = ? WHERE scope = ? AND key = ?",
                        arguments: [claim, now, scope, key])
                    return .proceed
                }
                let headers = String(decoding: try JSONEncoder().encode(answerLost.headers), as: UTF8.self)
                try db.execute(
                    sql: "UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ?",
                    arguments: [answerLost.status, headers, answerLost.body, scope, key])
                return .replay(answerLost)
            }
            try db.execute(
                sql: "INSERT INTO idempotency (scope, key, fingerprint, claim, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [scope, key, fingerprint, claim, now])
            return .proceed
        }
    }

    /// Keeps the response of a claimed key (unless a retry took the key over).
    public func finishIdempotent(scope: String, key: String, claim: String = "", response: StoredResponse) throws {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        try engine.write { db in
            try db.execute(
                sql: "UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ? AND claim = ?",
                arguments: [response.status, headers, response.body, scope, key, claim])
        }
    }

    /// Settles every key still claimed by a request that never finished, at start, when no request of this process can
    /// be running: a key whose request changed nothing is released (the retry runs); a key whose write was committed
    /// before the crash answers `answerLost` from now on (the retry learns it was done; nothing is applied twice).
    /// (One server over its own database file; several instances over a shared database must not call this.)
    public func releaseUnfinishedIdempotencyKeys(answerLost: StoredResponse) throws -> (released: Int, settled: Int) {
        let headers = String(decoding: try JSONEncoder().encode(answerLost.headers), as: UTF8.self)
        return try engine.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE status IS NULL AND applied_at IS NULL")
            let released = db.changesCount
            try db.execute(
                sql: "UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE status IS NULL AND applied_at IS NOT NULL",
                arguments: [answerLost.status, headers, answerLost.body])
            return (released, db.changesCount)
        }
    }

    /// Settles a claimed key whose request failed on our side (a server fault, a lost database connection): released
    /// when nothing of it was committed, so a retry runs it; answered `answerLost` when its write was committed after
    /// all (a connection lost during the commit), so a retry learns it was done at once instead of after the lease.
    public func settleIdempotent(scope: String, key: String, claim: String = "", answerLost: StoredResponse) throws {
        let headers = String(decoding: try JSONEncoder().encode(answerLost.headers), as: UTF8.self)
        try engine.write { db in
            try db.execute(
                sql: "DELETE FROM idempotency WHERE scope = ? AND key = ? AND status IS NULL AND claim = ? AND applied_at IS NULL",
                arguments: [scope, key, claim])
            try db.execute(
                sql:
                    "UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ? AND status IS NULL AND claim = ?",
                arguments: [answerLost.status, headers, answerLost.body, scope, key, claim])
        }
    }

    /// Releases a claimed key whose request failed on our side, so a retry runs it again.
    public func abandonIdempotent(scope: String, key: String, claim: String = "") throws {
        try engine.write { db in
            try db.execute(
                sql: "DELETE FROM idempotency WHERE scope = ? AND key = ? AND status IS NULL AND claim = ?", arguments: [scope, key, claim])
        }
    }
}
