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

extension AppDatabase {
    /// How long a key is remembered.
    public static let idempotencyLifetime: TimeInterval = 24 * 3600

    /// Claims `key` for `scope` (the caller) and this request's `fingerprint`, in one transaction.
    public func beginIdempotent(scope: String, key: String, fingerprint: String) throws -> IdempotencyDecision {
        let now = self.now
        return try writer.write { db in
            try db.execute(
                sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [now.addingTimeInterval(-Self.idempotencyLifetime)])
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM idempotency WHERE scope = ? AND key = ?", arguments: [scope, key]) {
                guard row["fingerprint"] == fingerprint else { return .mismatch }
                guard let status: Int = row["status"] else { return .inProgress }
                let headers = try JSONDecoder().decode([[String]].self, from: Data((row["headers"] as String? ?? "[]").utf8))
                return .replay(StoredResponse(status: status, headers: headers, body: row["body"] ?? Data()))
            }
            try db.execute(
                sql: "INSERT INTO idempotency (scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                arguments: [scope, key, fingerprint, now])
            return .proceed
        }
    }

    /// Keeps the response of a claimed key.
    public func finishIdempotent(scope: String, key: String, response: StoredResponse) throws {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        try writer.write { db in
            try db.execute(
                sql: "UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ?",
                arguments: [response.status, headers, response.body, scope, key])
        }
    }

    /// Releases every key still claimed by a request that never finished: called at start, when no request of this
    /// process can be running, so a request cut by a crash can be retried instead of answering "in progress" for 24 h.
    /// (One server over its own database file; several instances over a shared database must not call this.)
    public func releaseUnfinishedIdempotencyKeys() throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE status IS NULL")
            return db.changesCount
        }
    }

    /// Releases a claimed key whose request failed on our side, so a retry runs it again.
    public func abandonIdempotent(scope: String, key: String) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE scope = ? AND key = ? AND status IS NULL", arguments: [scope, key])
        }
    }
}
