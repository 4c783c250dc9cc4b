import API
import ArgumentParser
import Domain
import Foundation
import Hummingbird
import Logging
import Notify
import ServiceLifecycle
import Storage
import Synchronization

/// `mdp serve`: the REST API over an embedded SQLite database.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the REST API.")

    @Option(help: "Address to listen on (HTTP_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (HTTP_PORT; default 8080).")
    var port: String?

    @Option(help: "Folder of the SQLite database and the blobs (DATA_DIR; default ./data).")
    var dataDir: String?

    @Option(help: "PostgreSQL instead of the SQLite file: postgres://user:password@host:port/database (DATABASE_URL).")
    var databaseURL: String?

    @Flag(help: "Load realistic demo data into an empty database and print how to log in.")
    var demo = false

    @Flag(help: "Print the settings as resolved (secrets masked) and exit: 0 when they are valid.")
    var checkConfig = false

    func run() async throws {
        let source = try await SettingsSource.load(options: [
            "http.host": host, "http.port": port, "data.dir": dataDir, "database.url": databaseURL,
        ])
        var settings = try ServeSettings(source)
        if demo && settings.today == nil { settings.today = Demo.today }
        if checkConfig {
            FileHandle.standardOutput.write(Data(settings.resolved.map { "\($0.key)=\($0.value)\n" }.joined().utf8))
            return
        }
        settings.logFormat.bootstrap(level: settings.logLevel)
        // One server per SQLite folder (a second one, or a restore over it, is refused while this one runs).
        let lock: InstallationLock?
        do {
            lock = settings.databaseURL == nil ? try InstallationLock.acquire(dataDirectory: settings.dataDirectory) : nil
        } catch let error as BackupError {
            throw ValidationError(error.description)
        }
        defer { withExtendedLifetime(lock) {} }
        let database = try settings.openDatabaseOnProgrammeClock()
        defer { database.close() }
        // Contents of uploads killed between their bytes and their commit are not kept: on SQLite all of them (one
        // server), in the database store those older than six hours (other instances may be receiving the younger ones);
        // a folder shared by several instances is not swept here.
        if database.dialect == .sqlite || database.blobs.root == nil {
            let swept = try database.sweepUnreferencedBlobs()
            if swept > 0 { Logger(label: "mdp").notice("removed \(swept) unreferenced or unfinished document contents") }
        }
        // The embedded database has one server: what its last process left unfinished is settled before any request.
        // Over PostgreSQL other instances may be mid-request: keys of a dead instance are settled after their lease.
        if database.dialect == .sqlite {
            // Keys claimed by requests the last process never finished are free to retry.
            let keys = try database.releaseUnfinishedIdempotencyKeys(answerLost: idempotencyAnswerLost())
            if keys.released + keys.settled > 0 {
                Logger(label: "mdp").notice(
                    "idempotency keys of unfinished requests: \(keys.released) released, \(keys.settled) answered as done")
            }
        }
        // An instance over PostgreSQL may run for weeks: uploads abandoned meanwhile are swept every hour, not only at
        // start (those older than six hours; other instances' uploads in flight are younger).
        let sweeper: Task<Void, Never>? =
            database.dialect == .postgres && database.blobs.root == nil
            ? Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(3600))
                    if let swept = try? await BlockingPool.run({ try database.sweepUnreferencedBlobs() }), swept > 0 {
                        Logger(label: "mdp").notice("removed \(swept) unreferenced or unfinished document contents")
                    }
                }
            } : nil
        defer { sweeper?.cancel() }
        let leftovers = ExportLeftovers.sweep()
        if leftovers > 0 { Logger(label: "mdp").notice("removed \(leftovers) unfinished spreadsheet exports from the temporary folder") }
        // What the retention settings no longer keep goes at start, then every hour (any instance may do it).
        let retention = settings.retention
        let purger = Task.detached {
            while !Task.isCancelled {
                do {
                    let report = try await BlockingPool.run { try database.purge(retention) }
                    if report.total > 0 { Logger(label: "mdp").notice("retention: purged \(report)") }
                } catch {
                    Logger(label: "mdp").warning("retention: the purge failed, retried in an hour (\(type(of: error)))")
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        defer { purger.cancel() }
        let demoNotice = demo ? try await Demo.prepare(database, dataDirectory: settings.dataDirectory) : nil
        // Notices of the outbox are sent by a worker in this process (`mdp notify once` runs one pass, for cron).
        let delivery = try settings.noticeDelivery(database, demo: demo, ownURL: "http://\(settings.host):\(settings.port)")
        FileHandle.standardOutput.write(Data("notifications: \(delivery.destination)\n".utf8))
        let interval = settings.notifyInterval
        let worker = Task.detached { await delivery.run(every: .seconds(interval)) }
        let app = try buildApplication(settings, database: database, notice: demoNotice)
        // SIGTERM (or SIGINT): the listener closes, requests and uploads in flight finish, idle connections close; past
        // the grace period what still runs is cancelled. Then the worker ends its batch and the database closes.
        var configuration = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "mdp"))
        configuration.maximumGracefulShutdownDuration = .seconds(settings.shutdownGrace)
        configuration.maximumCancellationDuration = .seconds(5)
        let outcome: Result<Void, any Error>
        do {
            try await ServiceGroup(configuration: configuration).run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        worker.cancel()
        await worker.value
        Logger(label: "mdp").notice("stopped: requests finished, notification worker stopped, database closing")
        try outcome.get()
    }
}

/// How far the programme's clock is from the real one (zero until the database says where the programme's day began).
final class ClockOffset: Sendable {
    private let value = Mutex<TimeInterval>(0)
    var seconds: TimeInterval {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// The composition root: settings in, a runnable application out. Tests build their own from the same parts.
func buildApplication(_ settings: ServeSettings, database: AppDatabase, notice: (@Sendable (String) -> String)? = nil) throws
    -> some ApplicationProtocol
{
    var logger = Logger(label: "mdp")
    logger.logLevel = settings.logLevel
    var dependencies = APIDependencies(
        database: database, version: MDP.version, corsOrigins: settings.corsOrigins, cacheDirectoryResponses: settings.directoryCache,
        maxDocumentBytes: settings.maxDocumentBytes)
    dependencies.trustedProxies = Set(settings.trustedProxies)
    dependencies.metricsToken = settings.metricsToken
    let router = try buildRouter(dependencies)
    let dataDirectory = settings.databaseDescription
    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "mdp/\(MDP.version)"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            let base = "http://\(settings.host):\(port)"
            let today = settings.today.map { "  (programme day: \($0))" } ?? ""
            let banner = """
                mdp \(MDP.version) serving on \(base) (data in \(dataDirectory))\(today)
                  health       \(base)/health   ready \(base)/ready   metrics \(base)/metrics
                  API docs     \(base)/docs   (contract: \(base)/openapi.yaml)
                  directory    \(base)/v1/directory/experts?q=bois&facets=true
                  taxonomy     \(base)/v1/taxonomy
                  territories  \(base)/v1/territories
                  programme    \(base)/v1/programme

                """ + (notice?(base) ?? "")
            FileHandle.standardOutput.write(Data(banner.utf8))
        },
        logger: logger
    )
}

/// Demo data for `make run`: loaded once into an empty database; the demo logins are kept beside it.
enum Demo {
    static let loginsFile = "demo-logins.txt"
    /// The demo lives inside the programme's support window, so every step of a mission can be tried.
    static let today = CalendarDate(2024, 3, 15)!

    /// Loads the demo when the database is empty; returns what to print once the server listens.
    static func prepare(_ database: AppDatabase, dataDirectory: String) async throws -> @Sendable (String) -> String {
        // Over PostgreSQL nothing else may have made the data folder.
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(loginsFile).path
        if try database.isEmpty() {
            FileHandle.standardOutput.write(Data("loading demo data (\(DemoData.expertCount) experts, 100 laureates)…\n".utf8))
            var demo = DemoData()
            let logins = try await demo.load(
                into: database, settings: .manufacturesDeProximite,
                passwords: (admin: newPassword(), expert: newPassword(), laureate: newPassword()))
            // The demo's history is not mailed: only its last few notices, as a sample of what is sent.
            _ = try database.skipWaitingNotices(keepingLatest: 5, reason: "demo history")
            // One expert asked to be erased (RGPD): their closed missions stay, under "Expert supprimé n°1".
            if let leaving = try database.expertsWithOnlyEndedMissions().first(where: { $0.email != logins.expert.email }) {
                _ = try database.erase(account: leaving, confirmingEmail: leaving.email)
            }
            // A subscription to look at, paused (its deliveries wait; nothing leaves the machine): a regional network's
            // CRM following the hand-offs.
            if let admin = try database.account(email: logins.admin.email) {
                let subscription = try database.createWebhookSubscription(
                    url: "https://crm.reseau-regional.example/webhooks/manufactures",
                    eventTypes: NoticeKind.webhookEvents.map(\.rawValue),
                    description: "CRM du réseau régional (démo : en pause, rien n'est envoyé)", secret: WebhookRules.newSecret(),
                    by: admin)
                _ = try database.updateWebhookSubscription(
                    id: subscription.id, url: nil, eventTypes: nil, description: nil, active: false, ifRevision: nil, by: admin)
            }
            let text = """
                admin     \(logins.admin.email)  \(logins.admin.password)
                expert    \(logins.expert.email)  \(logins.expert.password)
                laureate  \(logins.laureate.email)  \(logins.laureate.password)

                """
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        }
        let logins = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(demo logins unknown: this database was not made by --demo)\n"
        return { base in
            let admin = logins.split(separator: "\n").first?.split(separator: " ", omittingEmptySubsequences: true) ?? []
            let email = admin.count > 1 ? String(admin[1]) : "EMAIL"
            let password = admin.count > 2 ? String(admin[2]) : "PASSWORD"
            return """

                Demo logins (also in \(path)):
                \(logins.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

                Try:
                  curl -s '\(base)/v1/directory/experts?q=equipement&region=84&limit=3'
                  TOKEN=$(curl -s -X POST \(base)/v1/auth/token -H 'Content-Type: application/json' \\
                    -d '{"email":"\(email)","password":"\(password)"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
                  curl -s -H "Authorization: Bearer $TOKEN" '\(base)/v1/experts?state=submitted&limit=5'
                  curl -s -OJ -H "Authorization: Bearer $TOKEN" '\(base)/v1/exports/missions'    # missions-….csv for a spreadsheet

                The directory widget for other sites: \(base)/widget/v1/demo.html

                """
        }
    }

    /// A readable random password for the demo accounts.
    static func newPassword() -> String {
        let words = ["atelier", "bocal", "copeau", "etabli", "fablab", "lin", "metier", "outil", "rabot", "tissage", "tour", "verre"]
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in words.randomElement(using: &generator)! }.joined(separator: "-")
            + "-\(Int.random(in: 10...99, using: &generator))"
    }
}
