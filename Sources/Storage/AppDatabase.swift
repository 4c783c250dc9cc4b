import Domain
import Foundation
import GRDB

/// The application's database: one writer (a WAL `DatabasePool` in production, an in-memory queue in tests),
/// migrated on open, reached only through intent-named methods that each run one transaction.
public struct AppDatabase: Sendable {
    /// Reads go through the writer's reader pool; writes are serialised by it.
    let writer: any DatabaseWriter

    /// Wraps `writer` and brings its schema up to date.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// The embedded default: `<dataDirectory>/mdp.sqlite`, created with its folder if missing.
    public static func file(inDirectory dataDirectory: String) throws -> AppDatabase {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("mdp.sqlite").path
        return try AppDatabase(DatabasePool(path: path, configuration: configuration))
    }

    /// A fresh, private database for one test.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration))
    }

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }

    /// Named migrations, applied in order and never edited once shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-27 instance") { db in
            try db.create(table: "instance") { t in
                t.primaryKey("key", .text).notNull()
                t.column("value", .text).notNull()
            }
            try db.execute(
                sql: "INSERT INTO instance (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
        }
        return migrator
    }

    /// Answers when the database can be read; throws otherwise (readiness).
    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// When this database was first created (UTC, ISO 8601).
    public func createdAt() throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM instance WHERE key = 'created_at'") }
    }
}
