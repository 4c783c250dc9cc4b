import ArgumentParser
import Domain
import Foundation
import Storage

/// `mdp admin …`: operator commands on the same data folder as `serve`.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operator commands.",
        subcommands: [
            CreateAdmin.self, IssueToken.self, Migrate.self, Copy.self, BackupCommand.self, RestoreCommand.self, VerifyCommand.self,
            Purge.self,
        ])
}

/// Which database a command works on: the SQLite file in the data folder, or PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Folder of the SQLite database (DATA_DIR; default ./data).")
    var dataDir: String?

    @Option(help: "PostgreSQL instead of the SQLite file (DATABASE_URL).")
    var databaseURL: String?

    /// The settings these options, the environment and `.env` give.
    func settings() async throws -> ServeSettings {
        try ServeSettings(try await SettingsSource.load(options: ["data.dir": dataDir, "database.url": databaseURL]))
    }

    /// The installation as it is, for checks and backups: PostgreSQL as it stands (not migrated), or the SQLite file,
    /// which must exist, opened read-only (nothing written, so a backup folder can be checked and still restored).
    func existingInstallation() async throws -> AppDatabase {
        let settings = try await settings()
        guard settings.databaseURL == nil else { return try settings.openDatabase(migrate: false) }
        do {
            return try AppDatabase.existing(
                inDirectory: settings.dataDirectory, documentsDirectory: settings.documentsDirectory.map { URL(fileURLWithPath: $0) })
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
    }
}

/// `mdp admin create --email …`: bootstraps a programme-team account. The password comes from MDP_ADMIN_PASSWORD
/// or the first line of standard input, never from an argument (arguments show in `ps` and shell history).
struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an admin account (password on stdin).")

    @Option(help: "The admin's e-mail.")
    var email: String

    @Option(help: "The name shown for this account.")
    var name: String = "Équipe Manufactures de proximité"

    @OptionGroup var location: DatabaseOptions

    func run() async throws {
        let settings = try await location.settings()
        let password: String
        if let fromEnvironment = ProcessInfo.processInfo.environment["MDP_ADMIN_PASSWORD"], !fromEnvironment.isEmpty {
            password = fromEnvironment
        } else if let line = readLine(strippingNewline: true) {
            password = line
        } else {
            throw ValidationError("give the password on standard input or in MDP_ADMIN_PASSWORD")
        }
        let database = try settings.openDatabaseOnProgrammeClock()
        defer { database.close() }
        do {
            let account = try database.createAccount(email: email, password: password, role: .admin, displayName: name)
            print("admin \(account.email) created")
        } catch StorageError.emailTaken {
            throw ValidationError("an account already uses \(Credentials.normalisedEmail(email))")
        } catch StorageError.invalid(let errors) {
            throw ValidationError(errors.map { "\($0.pointer.dropFirst()): \($0.detail)" }.joined(separator: "; "))
        }
    }
}

/// `mdp admin token --role sync`: issues a service token for the sync engine (its account is created once). The
/// secret is printed once on standard output; only its hash is kept.
struct IssueToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Issue a service token (role sync).")

    @Option(help: "The role of the service account; only sync is a service role.")
    var role: String = "sync"

    @Option(help: "What the token is for.")
    var name: String = "drive-sync"

    @Option(help: "How many days the token lives (1-730).")
    var days: Int = 365

    @OptionGroup var location: DatabaseOptions

    func run() async throws {
        guard role == Role.sync.rawValue else {
            throw ValidationError("only --role sync issues service tokens; people log in or use /v1/me/tokens")
        }
        guard (1...730).contains(days) else { throw ValidationError("--days must be 1 to 730") }
        let settings = try await location.settings()
        let database = try settings.openDatabaseOnProgrammeClock()
        defer { database.close() }
        let email = "sync@service.local"
        let account =
            try database.account(email: email)
            ?? database.createAccount(email: email, password: nil, role: .sync, displayName: "Sync engine")
        let issued = try database.createServiceToken(for: account, name: name, days: days)
        print(issued.secret)
    }
}

/// `mdp admin migrate`: brings the database's schema up to date and lists the migrations applied. `mdp serve` does the
/// same on start; with several instances over PostgreSQL, run this once before starting the new version.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the database migrations this binary has.")

    @OptionGroup var location: DatabaseOptions

    func run() async throws {
        let settings = try await location.settings()
        let database = try settings.openDatabase()
        defer { database.close() }
        let applied = try database.appliedMigrations()
        print("\(settings.databaseDescription): \(applied.count) migrations applied")
        for name in applied { print("  \(name)") }
    }
}

/// `mdp admin purge`: applies the retention settings now (`mdp serve` does it every hour).
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove what the retention settings (RETENTION_*_DAYS) no longer keep; erase abandoned draft cards.")

    @OptionGroup var location: DatabaseOptions

    func run() async throws {
        let settings = try await location.settings()
        let database = try settings.openDatabaseOnProgrammeClock()
        defer { database.close() }
        print("purged: \(try database.purge(settings.retention))")
    }
}

/// `mdp admin copy --from DATA_DIR --to postgres://…`: moves a whole SQLite installation (accounts, tokens, cards,
/// laureates, missions, documents and their contents, audit chain) into an empty PostgreSQL database, then verifies it
/// there: the audit chain, and every table's row count and digest against the source.
struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Copy an SQLite installation into an empty PostgreSQL database.")

    @Option(help: "The data folder of the SQLite installation (its mdp.sqlite).")
    var from: String

    @Option(help: "Where the source's document contents are, if not <from>/blobs (its DOCUMENTS_DIR).")
    var fromDocumentsDir: String?

    @Option(help: "The PostgreSQL database to fill: postgres://user:password@host:port/database.")
    var to: String

    @Option(help: "Document contents of the target as files in this folder instead of in the database (its DOCUMENTS_DIR).")
    var toDocumentsDir: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: from).appendingPathComponent("mdp.sqlite").path) else {
            throw ValidationError("--from \(from) holds no mdp.sqlite")
        }
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: to)
        } catch {
            throw ValidationError("--to: \(error)")
        }
        // A server still writing to the source would change it under the copy: its folder's lock is taken for the run.
        let lock: InstallationLock
        do {
            lock = try InstallationLock.acquire(dataDirectory: from)
        } catch BackupError.inUse {
            throw ValidationError("--from \(from) is in use by a running mdp serve: stop it first, then copy")
        }
        defer { withExtendedLifetime(lock) {} }
        let source = try AppDatabase.file(inDirectory: from, documentsDirectory: fromDocumentsDir.map { URL(fileURLWithPath: $0) })
        let target = try AppDatabase.postgres(location, documentsDirectory: toDocumentsDir.map { URL(fileURLWithPath: $0) })
        defer { target.close() }
        do {
            let report = try await source.copy(to: target)
            let rows = report.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("copied to \(location.display)")
            print("  rows: \(rows)")
            print("  document contents: \(report.blobs) (\(report.bytes) bytes), each digest checked")
            print("  verified on arrival: audit chain intact (\(report.events) events), every table's rows and digest equal")
        } catch let error as CopyError {
            FileHandle.standardError.write(Data("copy failed: \(error)\n".utf8))
            throw ExitCode(3)
        }
    }
}
