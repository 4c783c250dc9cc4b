import API
import ArgumentParser
import Configuration
import Domain
import Foundation
import Logging
import Notify
import Storage
import SystemPackage

/// Where settings come from, first match wins: command-line options > credential files > environment > `.env` file >
/// defaults. Keys are scoped (`http.port` is `HTTP_PORT` in the environment, `http-port` as a credential file);
/// `.env.example` lists them all. Credential files are those systemd hands over in `$CREDENTIALS_DIRECTORY`
/// (`LoadCredential=`), or any folder named by `MDP_CREDENTIALS_DIR`: one file per secret, so no secret sits in the
/// environment of the process.
struct SettingsSource {
    let reader: ConfigReader

    /// `options` holds what was given on the command line, by key.
    static func load(options: [String: String?]) async throws -> SettingsSource {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for case (let key, let value?) in options {
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(.string(value), isSecret: false)
        }
        var providers: [any ConfigProvider] = [InMemoryProvider(name: "command line", values: values)]
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["MDP_CREDENTIALS_DIR"] ?? environment["CREDENTIALS_DIRECTORY"], !folder.isEmpty {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("MDP_CREDENTIALS_DIR (or CREDENTIALS_DIRECTORY) names \(folder), which is not a folder")
            }
            providers.append(try await DirectoryFilesProvider(directoryPath: FilePath(folder)))
        }
        providers.append(EnvironmentVariablesProvider())
        providers.append(try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true))
        let reader = ConfigReader(providers: providers)
        return SettingsSource(reader: reader)
    }
}

/// The settings of `mdp serve`.
struct ServeSettings: Sendable {
    var host: String
    var port: Int
    var dataDirectory: String
    /// Origins whose pages may call the public endpoints; "*" for any.
    var corsOrigins: [String] = ["*"]
    /// Reverse proxies whose `X-Real-IP` header names the client (deploy/nginx sets it).
    var trustedProxies: [String] = []
    /// How long a password login's token lives.
    var sessionHours: Int = 12
    /// Keep encoded directory answers in memory until the next card write.
    var directoryCache = true
    /// The largest document accepted, in bytes.
    var maxDocumentBytes = 50 << 20
    /// The programme's day, for demos and training: the clock starts there and runs on. Nil is the real date.
    var today: CalendarDate?
    /// Expert sign-ups allowed from one address in 15 minutes.
    var signupsPerAddress = 10
    /// PostgreSQL instead of the SQLite file under `dataDirectory` (`postgres://user:password@host:port/database`).
    var databaseURL: String?
    /// How many PostgreSQL connections one instance opens at most.
    var databaseConnections = 10
    /// Where document contents go as files: by default `<dataDirectory>/blobs` on SQLite; on PostgreSQL, unset keeps
    /// them in the database, set names a volume every instance shares.
    var documentsDirectory: String?
    /// The SMTP server notices go through (`smtp://user:password@host:port`, `smtps://…`); nil: e-mail is off.
    var smtpURL: String?
    /// The sender of notices: `Name <address>` or an address.
    var smtpFrom = "Manufactures de proximité <ne-pas-repondre@localhost>"
    /// A CA bundle for an SMTP server whose certificate the system does not trust.
    var smtpCAFile: String?
    /// The front end's base URL, for the links in notices (default: this server's own address).
    var appURL: String?
    /// Seconds between two passes of the notification worker.
    var notifyInterval = 15
    /// Whether webhooks may go to this machine and private networks (receivers inside the installation's own network);
    /// by default only to the public internet. Link-local addresses are never allowed.
    var webhookPrivateNetworks = false
    /// How long what is not a record is kept (`RETENTION_*_DAYS`); `mdp serve` applies it every hour.
    var retention = RetentionPolicy()
    /// How logs are written (`LOG_FORMAT`: text or json) and from which level (`LOG_LEVEL`).
    var logFormat = LogFormat.text
    var logLevel = Logger.Level.info
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    var metricsToken: String?
    /// Seconds that requests in flight get to finish after SIGTERM before the process stops anyway.
    var shutdownGrace = 25

    /// When the programme's day starts (09:00 in Paris), the moment the clock of a demo or training starts from.
    var programmeStart: Date? { today.flatMap(Self.programmeStart(of:)) }

    static func programmeStart(of today: CalendarDate) -> Date? {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (today.year, today.month, today.day, 9)
        components.timeZone = TimeZone(identifier: "Europe/Paris")
        return Calendar(identifier: .gregorian).date(from: components)
    }

    init(host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = "./data") {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
    }

    init(_ source: SettingsSource) throws {
        self.init()
        host = source.reader.string(forKey: "http.host", default: host)
        let portText = source.reader.string(forKey: "http.port", default: String(port))
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ValidationError("http.port must be a port number (0-65535), not \(portText)")
        }
        self.port = port
        dataDirectory = source.reader.string(forKey: "data.dir", default: dataDirectory)
        corsOrigins = source.reader.string(forKey: "http.cors_origins", default: "*")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        trustedProxies = source.reader.string(forKey: "http.trusted_proxies", default: "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let hours = source.reader.string(forKey: "auth.session_hours", default: String(sessionHours))
        guard let sessionHours = Int(hours), (1...24 * 30).contains(sessionHours) else {
            throw ValidationError("auth.session_hours must be 1 to 720, not \(hours)")
        }
        self.sessionHours = sessionHours
        let cache = source.reader.string(forKey: "http.directory_cache", default: "true").lowercased()
        guard let directoryCache = ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false][cache] else {
            throw ValidationError("http.directory_cache (HTTP_DIRECTORY_CACHE) must be true or false, not \(cache)")
        }
        self.directoryCache = directoryCache
        let maxBytes = source.reader.string(forKey: "documents.max_bytes", default: String(maxDocumentBytes))
        guard let maxDocumentBytes = Int(maxBytes), maxDocumentBytes > 0 else {
            throw ValidationError("documents.max_bytes must be a positive number of bytes, not \(maxBytes)")
        }
        self.maxDocumentBytes = maxDocumentBytes
        let signups = source.reader.string(forKey: "auth.signups_per_address", default: String(signupsPerAddress))
        guard let signupsPerAddress = Int(signups), (1...1_000_000).contains(signupsPerAddress) else {
            throw ValidationError("auth.signups_per_address must be 1 to 1000000, not \(signups)")
        }
        self.signupsPerAddress = signupsPerAddress
        if let url = source.reader.string(forKey: "database.url", isSecret: true) {
            // Set but empty is a mistake (a missing secret on a host without a lasting disk), not a wish for SQLite.
            guard !url.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("database.url (DATABASE_URL) is set but empty: unset it to use SQLite under the data folder")
            }
            do {
                _ = try PostgresLocation(url: url)
            } catch {
                throw ValidationError("database.url: \(error)")
            }
            databaseURL = url
        }
        documentsDirectory = source.reader.string(forKey: "documents.dir").flatMap { $0.isEmpty ? nil : $0 }
        let connections = source.reader.string(forKey: "database.connections", default: String(databaseConnections))
        guard let databaseConnections = Int(connections), (1...200).contains(databaseConnections) else {
            throw ValidationError("database.connections must be 1 to 200, not \(connections)")
        }
        self.databaseConnections = databaseConnections
        if let url = source.reader.string(forKey: "smtp.url", isSecret: true), !url.isEmpty {
            do {
                _ = try SMTPServer(url: url)
            } catch {
                throw ValidationError("smtp.url: \(error)")
            }
            smtpURL = url
            guard let from = source.reader.string(forKey: "smtp.from"), (try? Self.sender(from)) != nil else {
                throw ValidationError("smtp.from (SMTP_FROM) must be set with SMTP_URL: `Name <address>` or an address")
            }
            smtpFrom = from
        }
        smtpCAFile = source.reader.string(forKey: "smtp.ca_file").flatMap { $0.isEmpty ? nil : $0 }
        if let url = source.reader.string(forKey: "app.url"), !url.isEmpty {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil, parsed.user == nil,
                parsed.password == nil
            else {
                throw ValidationError("app.url (APP_URL) must be the front end's base URL, http(s)://host…, not \(url)")
            }
            appURL = url
        }
        let interval = source.reader.string(forKey: "notify.interval", default: String(notifyInterval))
        guard let notifyInterval = Int(interval), (1...86_400).contains(notifyInterval) else {
            throw ValidationError("notify.interval must be 1 to 86400 seconds, not \(interval)")
        }
        self.notifyInterval = notifyInterval
        let privateNetworks = source.reader.string(forKey: "webhook.allow_private_networks", default: "false").lowercased()
        guard let webhookPrivateNetworks = ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false][privateNetworks]
        else {
            throw ValidationError(
                "webhook.allow_private_networks (WEBHOOK_ALLOW_PRIVATE_NETWORKS) must be true or false, not \(privateNetworks)")
        }
        self.webhookPrivateNetworks = webhookPrivateNetworks
        for (key, path) in Self.retentionKeys {
            let text = source.reader.string(forKey: ConfigKey(key), default: String(retention[keyPath: path]))
            guard let days = Int(text), RetentionPolicy.allowedDays.contains(days) else {
                throw ValidationError("\(key) (\(Self.variable(key))) must be 1 to 3650 days, not \(text)")
            }
            retention[keyPath: path] = days
        }
        let format = source.reader.string(forKey: "log.format", default: logFormat.rawValue)
        guard let logFormat = LogFormat(rawValue: format.lowercased()) else {
            throw ValidationError("log.format (LOG_FORMAT) must be text or json, not \(format)")
        }
        self.logFormat = logFormat
        let level = source.reader.string(forKey: "log.level", default: logLevel.rawValue)
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ValidationError(
                "log.level (LOG_LEVEL) must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \(level)")
        }
        self.logLevel = logLevel
        // Set but empty (an empty credential file, `METRICS_TOKEN=`) is a mistake, not a wish for open metrics.
        metricsToken = source.reader.string(forKey: "metrics.token", isSecret: true)?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let metricsToken, metricsToken.count < 16 {
            throw ValidationError("metrics.token (METRICS_TOKEN) must be at least 16 characters (openssl rand -hex 24)")
        }
        let grace = source.reader.string(forKey: "shutdown.grace", default: String(shutdownGrace))
        guard let shutdownGrace = Int(grace), (1...3600).contains(shutdownGrace) else {
            throw ValidationError("shutdown.grace must be 1 to 3600 seconds, not \(grace)")
        }
        self.shutdownGrace = shutdownGrace
        if let day = source.reader.string(forKey: "programme.today") {
            guard let parsed = CalendarDate(iso: day) else {
                throw ValidationError("programme.today must be a day as YYYY-MM-DD, not \(day)")
            }
            today = parsed
        }
    }
}

extension ServeSettings {
    /// The database these settings name: PostgreSQL when `database.url` is set, else the SQLite file in the data folder.
    /// Either is brought up to date on open unless `migrate` is false (then a database that is behind is refused).
    func openDatabase(options: AppDatabase.Options = .init(), migrate: Bool = true) throws -> AppDatabase {
        let documents = documentsDirectory.map { URL(fileURLWithPath: $0) }
        guard let databaseURL else {
            return try AppDatabase.file(inDirectory: dataDirectory, options: options, documentsDirectory: documents)
        }
        return try AppDatabase.postgres(
            PostgresLocation(url: databaseURL), options: options, documentsDirectory: documents, connections: databaseConnections,
            migrate: migrate)
    }

    /// The database on the programme's clock. The programme's day, if one is set (`PROGRAMME_TODAY`), starts when the
    /// database first saw it: every instance over the database, every restart and `mdp notify once` live on one clock
    /// (no instance ahead of another, no restart going back in time).
    func openDatabaseOnProgrammeClock() throws -> AppDatabase {
        let offset = ClockOffset()
        let database = try openDatabase(
            options: .init(
                clock: { Date().addingTimeInterval(offset.seconds) }, sessionLifetime: TimeInterval(sessionHours) * 3600,
                signupsPerAddress: signupsPerAddress))
        // A database started on a programme day keeps its clock when the setting is left out (a purge or a restart
        // without `--demo` must not jump to the real date: it would expire every session and erase fresh drafts).
        var day = today
        if day == nil, let stored = try? database.storedProgrammeDay() { day = CalendarDate(iso: stored) }
        if let day, let start = Self.programmeStart(of: day) {
            do {
                let anchor = try database.programmeClockAnchor(day: day.description, now: Date())
                offset.seconds = start.timeIntervalSince(anchor)
            } catch {
                database.close()
                throw error
            }
        }
        return database
    }

    /// Where the data is, for messages (a PostgreSQL URL with its password masked).
    var databaseDescription: String {
        if let databaseURL, let location = try? PostgresLocation(url: databaseURL) { return location.display }
        return URL(fileURLWithPath: dataDirectory).appendingPathComponent("mdp.sqlite").path
    }
}

extension ServeSettings {
    /// Every setting by its environment name, as this process resolved it; secrets masked (`--check-config`).
    var resolved: [(key: String, value: String)] {
        func masked(_ url: String?) -> String {
            guard let url else { return "" }
            guard var parts = URLComponents(string: url) else { return "(set, not shown)" }
            if parts.password != nil { parts.password = "****" }
            // libpq also takes the password as a parameter.
            parts.queryItems = parts.queryItems?.map {
                $0.name.lowercased().contains("password") ? URLQueryItem(name: $0.name, value: "****") : $0
            }
            return parts.string ?? "(set, not shown)"
        }
        let fixed: KeyValuePairs<String, String> = [
            "HTTP_HOST": host, "HTTP_PORT": String(port), "DATA_DIR": dataDirectory,
            "DATABASE_URL": masked(databaseURL), "DATABASE_CONNECTIONS": String(databaseConnections),
            "DOCUMENTS_DIR": documentsDirectory ?? "", "DOCUMENTS_MAX_BYTES": String(maxDocumentBytes),
            "HTTP_CORS_ORIGINS": corsOrigins.joined(separator: ","), "HTTP_TRUSTED_PROXIES": trustedProxies.joined(separator: ","),
            "HTTP_DIRECTORY_CACHE": String(directoryCache), "AUTH_SESSION_HOURS": String(sessionHours),
            "AUTH_SIGNUPS_PER_ADDRESS": String(signupsPerAddress), "SMTP_URL": masked(smtpURL), "SMTP_FROM": smtpFrom,
            "SMTP_CA_FILE": smtpCAFile ?? "", "APP_URL": appURL ?? "", "NOTIFY_INTERVAL": String(notifyInterval),
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": String(webhookPrivateNetworks),
            "LOG_FORMAT": logFormat.rawValue, "LOG_LEVEL": logLevel.rawValue, "METRICS_TOKEN": metricsToken == nil ? "" : "****",
            "SHUTDOWN_GRACE": String(shutdownGrace), "PROGRAMME_TODAY": today?.description ?? "",
        ]
        return fixed.map { ($0.key, $0.value) } + Self.retentionKeys.map { (Self.variable($0.key), String(retention[keyPath: $0.path])) }
    }

    /// The retention settings, by key (`retention.login_failure_days` is `RETENTION_LOGIN_FAILURE_DAYS`).
    static func variable(_ key: String) -> String { key.uppercased().replacingOccurrences(of: ".", with: "_") }

    static var retentionKeys: [(key: String, path: WritableKeyPath<RetentionPolicy, Int>)] {
        [
            ("retention.login_failure_days", \.loginFailureDays), ("retention.signup_attempt_days", \.signupAttemptDays),
            ("retention.token_days", \.tokenDays), ("retention.notice_days", \.noticeDays),
            ("retention.webhook_delivery_days", \.webhookDeliveryDays), ("retention.draft_card_days", \.draftCardDays),
        ]
    }

    /// `Name <address>` or a bare address, as `SMTP_FROM` gives it.
    static func sender(_ text: String) throws -> MailAddress {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return try MailAddress(name: name, email: String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
        }
        return try MailAddress(email: trimmed)
    }

    /// The notification worker these settings describe: over `smtp.url`, or, for the demo without one, into
    /// `<data dir>/mail` as .eml files; with neither, e-mail is off (notices are settled, nothing piles up).
    func noticeDelivery(_ database: AppDatabase, demo: Bool, ownURL: String) throws -> NoticeDelivery {
        let mail: (any MailTransport)? =
            if let smtpURL { try SMTPServer(url: smtpURL, caFile: smtpCAFile) } else if demo { MailFolder(mailFolder) } else { nil }
        return NoticeDelivery(
            database: database, mail: mail, sender: try Self.sender(smtpFrom), appURL: appURL ?? ownURL,
            reminders: ReminderSettings(), webhooks: CurlWebhookPoster(timeout: 10, allowPrivateNetworks: webhookPrivateNetworks),
            render: WebhookPayloads.renderer(database))
    }

    /// Where the demo's messages go when no SMTP server is set.
    var mailFolder: URL { URL(fileURLWithPath: dataDirectory).appendingPathComponent("mail") }
}
