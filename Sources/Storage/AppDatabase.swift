import Domain
import Foundation
import GRDB

/// The application's database: one writer (a WAL `DatabasePool` in production, an in-memory queue in tests),
/// migrated on open, reached only through intent-named methods that each run one transaction.
public struct AppDatabase: Sendable {
    /// Reads go through the writer's reader pool; writes are serialised by it.
    let writer: any DatabaseWriter
    let options: Options
    /// The files behind documents, by SHA-256.
    public let blobs: BlobStore
    /// The published experts in memory, rebuilt after a write that touches them.
    let directory = DirectoryCache()

    /// What a deployment or a test may tune.
    public struct Options: Sendable {
        /// The time now; tests move it.
        public var clock: @Sendable () -> Date
        /// bcrypt work factor for new password hashes (each step doubles the cost).
        public var bcryptCost: UInt8
        /// How long a session token from a password login lives.
        public var sessionLifetime: TimeInterval
        /// The programme the rules apply.
        public var settings: ProgrammeSettings
        /// Expert sign-ups allowed from one address in `throttleWindow` (each costs a bcrypt hash).
        public var signupsPerAddress: Int

        public init(
            clock: @escaping @Sendable () -> Date = { Date() }, bcryptCost: UInt8 = 11, sessionLifetime: TimeInterval = 12 * 3600,
            settings: ProgrammeSettings = .manufacturesDeProximite, signupsPerAddress: Int = 10
        ) {
            self.signupsPerAddress = signupsPerAddress
            self.clock = clock
            self.bcryptCost = bcryptCost
            self.sessionLifetime = sessionLifetime
            self.settings = settings
        }
    }

    /// Wraps `writer` and brings its schema up to date; blobs go to `blobDirectory` (a fresh temporary folder when nil).
    public init(_ writer: any DatabaseWriter, options: Options = .init(), blobDirectory: URL? = nil) throws {
        self.writer = writer
        self.options = options
        self.blobs = try BlobStore(
            root: blobDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("mdp-blobs-\(UUID().uuidString)"))
        try Migrations.migrator.migrate(writer)
    }

    /// The embedded default: `<dataDirectory>/mdp.sqlite`, created with its folder if missing.
    public static func file(inDirectory dataDirectory: String, options: Options = .init()) throws -> AppDatabase {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("mdp.sqlite").path
        return try AppDatabase(
            DatabasePool(path: path, configuration: configuration), options: options,
            blobDirectory: URL(fileURLWithPath: dataDirectory).appendingPathComponent("blobs"))
    }

    /// A fresh, private database for one test (bcrypt at its cheapest unless told otherwise).
    public static func inMemory(options: Options = .init(bcryptCost: 4)) throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration), options: options)
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

    /// Answers when the database can be read; throws otherwise (readiness).
    public func ping() throws {
        _ = try writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try Migrations.migrator.appliedMigrations(db) }
    }

    /// When this database was first created (UTC, ISO 8601).
    public func createdAt() throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM instance WHERE key = 'created_at'") }
    }

    var now: Date { options.clock() }
    var settings: ProgrammeSettings { options.settings }

    /// The next value of the global, monotonic revision counter: every change to a resource takes one.
    static func nextRevision(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "UPDATE counter SET value = value + 1 WHERE name = 'revision' RETURNING value")!
    }

    static func newID() -> String { UUID().uuidString.lowercased() }
}

/// Why a storage operation was refused, in terms the API maps to a status and a stable code.
public enum StorageError: Error, Sendable, Hashable {
    case notFound
    /// The caller knows the resource but its role may not do this.
    case forbidden
    /// The `If-Match` revision is older than the stored one.
    case stale(current: Int64)
    case emailTaken
    case invalidCredentials
    /// Too many failed logins; retry after this many seconds.
    case throttled(retryAfter: Int)
    case invalid([FieldError])
    case card(CardError)
    case mission(MissionError)
    case accountLink(AccountLink.Error)
}

extension AppDatabase {
    /// The cheapest write transaction (one counter increment): benchmarks measure real writes against this floor.
    public func referenceWrite() throws {
        try writer.write { db in _ = try Self.nextRevision(db) }
    }

    /// The cheapest read (a constant): the floor for read benchmarks.
    public func referenceRead() throws {
        _ = try writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}
