import Foundation
import Storage
import Testing

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
