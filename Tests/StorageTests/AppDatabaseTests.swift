import Foundation
import Testing

@testable import Storage

@Suite("Database")
struct AppDatabaseTests {
    static let migrations = [
        "2026-11-27 instance", "2026-11-27 accounts, laureates and expert cards",
        "2026-11-27 framing notes, conflicts, missions and the audit log", "2026-11-27 idempotency keys",
        "2026-11-27 documents",
        "2026-11-28 pooled invitations",
        "2026-11-28 idempotency applied",
        "2026-11-28 sign-up throttling",
        "2026-11-29 accounts table",
        "2026-11-29 idempotency claims",
        "2026-11-29 document contents in the database",
        "2026-11-29 outbox", "2026-11-30 outbox delivery", "2026-11-30 webhooks", "2026-12-01 erasure",
    ]

    @Test func aFreshDatabaseIsMigratedAndAnswers() async throws {
        let database = try AppDatabase.throwaway()
        #expect(try database.appliedMigrations() == AppDatabaseTests.migrations)
        try database.ping()
        #expect(try database.createdAt()?.hasPrefix("20") == true)
    }

    @Test func aFileDatabaseIsCreatedWithItsFolderAndReopensWithoutMigratingAgain() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mdp-\(UUID().uuidString)/nested").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try AppDatabase.file(inDirectory: folder)
        let created = try first.createdAt()
        #expect(FileManager.default.fileExists(atPath: folder + "/mdp.sqlite"))
        let again = try AppDatabase.file(inDirectory: folder)
        #expect(try again.createdAt() == created)
        #expect(try again.appliedMigrations() == AppDatabaseTests.migrations)
        try again.ping()
    }
}

/// What the database URL asks of the connection. (Runs where the suite runs on PostgreSQL; the test server offers TLS
/// with a certificate of its own authority, `pg-ca.crt` beside its data.)
@Suite("The PostgreSQL URL", .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"]?.isEmpty == false))
struct PostgresURLTests {
    static var url: String { ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"] ?? "" }
    static var authority: String? { ProcessInfo.processInfo.environment["MDP_TEST_POSTGRES_CA"] }

    /// Whether the connection of `database` is encrypted, as the server sees it.
    static func encrypted(_ database: AppDatabase) throws -> Bool? {
        try database.engine.read { db in try Bool.fetchOne(db, sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") }
    }

    static func open(sslmode: String, extra: String = "") throws -> AppDatabase {
        let url = Self.url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=\(sslmode)") + extra
        return try AppDatabase.postgres(PostgresLocation(url: url), connections: 1)
    }

    @Test func tlsWhenTheURLAsksForItAndNotOtherwise() throws {
        #expect(try Self.encrypted(Self.open(sslmode: "require")) == true)
        #expect(try Self.encrypted(Self.open(sslmode: "disable")) == false)
        // Checked against the authority the URL names: the server's name (127.0.0.1) is in its certificate.
        let authority = try #require(Self.authority)
        #expect(try Self.encrypted(Self.open(sslmode: "verify-full", extra: "&sslrootcert=\(authority)")) == true)
        // Not trusted by the system: refused with an error, not a crash.
        #expect(throws: (any Error).self) { try Self.open(sslmode: "verify-full") }
    }

}

@Suite("Reading a PostgreSQL URL")
struct PostgresLocationTests {
    @Test func aURLThatIsNotPostgreSQLIsRefusedSayingWhy() throws {
        #expect(throws: PostgresLocation.Problem.notPostgres("mysql")) { try PostgresLocation(url: "mysql://u@h/d") }
        #expect(throws: PostgresLocation.Problem.missing("user")) { try PostgresLocation(url: "postgres://h:5432/d") }
        #expect(throws: PostgresLocation.Problem.sslMode("maybe")) { try PostgresLocation(url: "postgres://u@h/d?sslmode=maybe") }
        #expect(try PostgresLocation(url: "postgres://mdp:s%40cret@h:5432/d").display == "postgres://mdp:***@h:5432/d")
    }
}

/// An instance that stops in the middle of a write (frozen, paused, cut off) holds the write lock every instance takes.
@Suite("A stopped writer", .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"]?.isEmpty == false))
struct StoppedWriterTests {
    @Test func aWriterStoppedMidTransactionLetsGoOfTheWriteLockWithinSeconds() throws {
        let database = try AppDatabase.throwaway()
        guard case .postgres(let pool) = database.engine else { throw CancellationError() }
        // Another instance takes the lock and stops answering, its transaction left open.
        let frozen = PostgresPool(pool.location, size: 1)
        try frozen.withConnection { session in
            _ = try session.execute("BEGIN", [])
            _ = try session.execute("SELECT pg_advisory_xact_lock(\(PostgresPool.writeLock))", [])
        }
        let start = ContinuousClock.now
        try database.referenceWrite()
        let waited = ContinuousClock.now - start
        // The server ends the stopped session after 10 s idle in its transaction; the write then runs.
        #expect(waited > .seconds(5) && waited < .seconds(19), "\(waited)")
    }
}
