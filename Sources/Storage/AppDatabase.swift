import Domain
import Foundation
import GRDB

/// The application's database, migrated on open, reached only through intent-named methods that each run one
/// transaction: the embedded SQLite file (a WAL `DatabasePool`; an in-memory queue in tests) or PostgreSQL, shared by
/// several instances. Callers do not know which one runs.
public struct AppDatabase: Sendable {
    /// Where transactions run; writes are serialised on both databases.
    let engine: SQLEngine
    let options: Options
    /// The files behind documents, by SHA-256.
    public let blobs: BlobStore
    /// The SQLite file as opened (device and inode): a file moved away, or another put in its place, is not ready.
    var openedFile: FileIdentity?
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

    /// Wraps `writer` and brings its schema up to date; document contents go to files under `blobDirectory` (a fresh
    /// temporary folder when nil).
    public init(_ writer: any DatabaseWriter, options: Options = .init(), blobDirectory: URL? = nil) throws {
        try Migrations.migrator.migrate(writer)
        let root = blobDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("mdp-blobs-\(UUID().uuidString)")
        self.init(engine: .sqlite(writer), options: options, blobs: try BlobStore(root: root, clock: options.clock))
    }

    private init(engine: SQLEngine, options: Options, blobs: BlobStore) {
        self.engine = engine
        self.options = options
        self.blobs = blobs
    }

    /// PostgreSQL at `location`, its schema brought up to date (`migrate: false` refuses a database that is behind
    /// instead), with at most `connections` connections. Document contents live in the database, or in files under
    /// `documentsDirectory` when one is given (a volume every instance shares).
    public static func postgres(
        _ location: PostgresLocation, options: Options = .init(), documentsDirectory: URL? = nil, connections: Int = 10,
        migrate: Bool = true
    ) throws -> AppDatabase {
        let pool = PostgresPool(location, size: connections)
        do {
            if migrate {
                try PostgresMigrations.migrate(pool)
            } else {
                let pending = try PostgresMigrations.pending(pool)
                guard pending.isEmpty else { throw MigrationsPending(names: pending) }
            }
            let blobs =
                try documentsDirectory.map { try BlobStore(root: $0, clock: options.clock) }
                ?? BlobStore(postgres: pool, clock: options.clock)
            let database = AppDatabase(engine: .postgres(pool), options: options, blobs: blobs)
            // Other instances' card writes reach this one's directory through the notification of their commit.
            let directory = database.directory
            directory.hearing(false)
            pool.keep(
                PostgresListener(
                    location, channel: directoryChannel, notified: { directory.invalidate() },
                    connected: { directory.hearing($0) }))
            return database
        } catch {
            pool.close()
            throw error
        }
    }

    /// Which database runs.
    public var dialect: SQLDialect { engine.dialect }

    /// What a second `mdp serve` over the same PostgreSQL database and blob folder has: its own connections, listener
    /// and caches (tests of several instances). Nil on SQLite, where one server owns the file.
    public func anotherInstance() throws -> AppDatabase? {
        guard case .postgres(let pool) = engine else { return nil }
        return try .postgres(pool.location, options: options, documentsDirectory: blobs.root, connections: pool.size)
    }

    /// The embedded default: `<dataDirectory>/mdp.sqlite`, created with its folder if missing.
    /// Document contents go to `documentsDirectory`, by default `<dataDirectory>/blobs`.
    public static func file(inDirectory dataDirectory: String, options: Options = .init(), documentsDirectory: URL? = nil) throws
        -> AppDatabase
    {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("mdp.sqlite").path
        var database = try AppDatabase(
            DatabasePool(path: path, configuration: configuration), options: options,
            blobDirectory: documentsDirectory ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("blobs"))
        database.openedFile = FileIdentity(path: path)
        return database
    }

    /// An SQLite installation that must already be there, opened read-only for checks and backups: nothing is written
    /// (no migration, no change of journal mode, no folder made), so a backup folder stays byte for byte what it was.
    public static func existing(inDirectory dataDirectory: String, documentsDirectory: URL? = nil) throws -> AppDatabase {
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("mdp.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { throw BackupError.noInstallation(path) }
        var configuration = configuration
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        // An empty or foreign file is not an installation either.
        let migrated = try? queue.read { db in try db.tableExists("grdb_migrations") }
        guard migrated == true else { throw BackupError.noInstallation(path) }
        return AppDatabase(
            engine: .sqlite(queue), options: .init(),
            blobs: BlobStore(existing: documentsDirectory ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("blobs")))
    }

    /// A fresh, private SQLite database in memory (bcrypt at its cheapest unless told otherwise).
    public static func inMemory(options: Options = .init(bcryptCost: 4)) throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration), options: options)
    }

    /// A fresh, private database for one test: in memory, or when `MDP_TEST_DATABASE_URL` names a PostgreSQL server,
    /// a new schema of its own there (the same suite runs on both databases).
    public static func throwaway(options: Options = .init(bcryptCost: 4)) throws -> AppDatabase {
        guard let url = ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"], !url.isEmpty else {
            return try inMemory(options: options)
        }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let server = PostgresPool(try PostgresLocation(url: url), size: 1)
        defer { server.close() }
        try server.withConnection { session in _ = try session.execute("CREATE SCHEMA \(schema)", []) }
        let separator = url.contains("?") ? "&" : "?"
        return try postgres(PostgresLocation(url: url + separator + "schema=" + schema), options: options, connections: 4)
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
        _ = try engine.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        // An SQLite file deleted or moved under a running server still answers, from a file nobody will find again:
        // not ready. Nor is a documents folder that cannot be written.
        if case .sqlite(let writer) = engine, let pool = writer as? DatabasePool, let openedFile {
            guard FileIdentity(path: pool.path) == openedFile else {
                throw NotReady(reason: "the database file was moved, deleted or replaced since this server opened it")
            }
        }
        if let root = blobs.root {
            guard access(root.path, W_OK) == 0 else { throw NotReady(reason: "the documents folder cannot be written") }
        }
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() throws -> [String] {
        switch engine {
        case .sqlite(let writer): try writer.read { db in try Migrations.migrator.appliedMigrations(db) }
        case .postgres(let pool): try PostgresMigrations.applied(pool)
        }
    }

    /// When this database was first created (UTC, ISO 8601).
    public func createdAt() throws -> String? {
        try engine.read { db in try String.fetchOne(db, sql: "SELECT value FROM instance WHERE key = 'created_at'") }
    }

    /// Gives back the database's connections: PostgreSQL's, or the SQLite file's (its log checkpointed; a file still in
    /// use closes with its last user).
    public func close() {
        switch engine {
        case .postgres(let pool): pool.close()
        case .sqlite(let writer): try? (writer as? DatabasePool)?.close()
        }
    }

    public var now: Date { options.clock() }
    var settings: ProgrammeSettings { options.settings }

    /// The next value of the global, monotonic revision counter: every change to a resource takes one.
    static func nextRevision(_ db: SQLConnection) throws -> Int64 {
        guard let value = try Int64.fetchOne(db, sql: "UPDATE counter SET value = value + 1 WHERE name = 'revision' RETURNING value") else {
            throw MissingRow(what: "the revision counter")
        }
        return value
    }

    static func newID() -> String { UUID().uuidString.lowercased() }
}

/// A row the schema guarantees is not there (a damaged database): refused, never trapped.
struct MissingRow: Error, CustomStringConvertible {
    let what: String
    var description: String { "the database has no row for \(what)" }
}

/// The database is behind the binary: run `mdp admin migrate` first.
public struct MigrationsPending: Error, CustomStringConvertible {
    public let names: [String]
    public var description: String {
        "the database lacks \(names.count) migration(s): \(names.joined(separator: ", ")); run `mdp admin migrate`"
    }
}

/// Why a storage operation was refused, in terms the API maps to a status and a stable code.
/// Which file a path names (device and inode).
struct FileIdentity: Sendable, Hashable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Why an instance should not take traffic though its database answers.
public struct NotReady: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

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
    /// A retry with the same `Idempotency-Key` took this request over (it ran past the key's lease).
    case claimLost
    /// The database could not give the write its turn in time (another instance held it too long): retry.
    case busy
    /// The connection to the database was lost or it stopped answering: whether a write sent then was committed is
    /// not known (a retry with its `Idempotency-Key` tells).
    case unavailable
    /// An erasure waits for these running missions (their references).
    case missionsInProgress([String])
    /// Only a password login's token may do this (not a personal access token).
    case sessionRequired
}

extension AppDatabase {
    /// The cheapest write transaction (one counter increment): benchmarks measure real writes against this floor.
    public func referenceWrite() throws {
        try engine.write { db in _ = try Self.nextRevision(db) }
    }

    /// The cheapest read (a constant): the floor for read benchmarks.
    public func referenceRead() throws {
        _ = try engine.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}
