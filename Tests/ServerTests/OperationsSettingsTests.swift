import Configuration
import Domain
import Foundation
import Logging
import Testing

@testable import Server
@testable import Sync

/// What an operator reads: the resolved settings with secrets masked, and the sync's metrics file.
@Suite("Operations: settings shown, sync metrics")
struct OperationsSettingsTests {
    static func settings(_ values: [String: String]) throws -> ServeSettings {
        var table: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in values {
            table[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(.string(value), isSecret: false)
        }
        return try ServeSettings(SettingsSource(reader: ConfigReader(providers: [InMemoryProvider(values: table)])))
    }

    @Test func checkConfigShowsEverySettingWithItsSecretsMasked() throws {
        let settings = try Self.settings([
            "database.url": "postgres://mdp:pg-secret-77@db.example.fr:5432/mdp",
            "smtp.url": "smtp://notices:mail-secret-88@smtp.example.fr:587",
            "smtp.from": "Équipe <ne-pas-repondre@example.fr>", "metrics.token": "scrape-secret-99", "log.format": "json",
            "log.level": "warning", "shutdown.grace": "40",
        ])
        let shown = settings.resolved.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        for secret in ["pg-secret-77", "mail-secret-88", "scrape-secret-99"] { #expect(!shown.contains(secret)) }
        #expect(shown.contains("DATABASE_URL=postgres://mdp:****@db.example.fr:5432/mdp"))
        #expect(shown.contains("SMTP_URL=smtp://notices:****@smtp.example.fr:587"))
        #expect(shown.contains("METRICS_TOKEN=****"))
        let inQuery = try Self.settings([
            "database.url": "postgres://mdp@db.example.fr/mdp?password=pg-secret-66&sslpassword=pg-secret-55&sslmode=require"
        ])
        #expect(!inQuery.resolved.map(\.value).joined().contains("pg-secret-66"))
        #expect(!inQuery.resolved.map(\.value).joined().contains("pg-secret-55"))
        #expect(shown.contains("LOG_FORMAT=json") && shown.contains("LOG_LEVEL=warning") && shown.contains("SHUTDOWN_GRACE=40"))
        // Every setting of .env.example is shown.
        let example = try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8)
        let names = Set(settings.resolved.map(\.key))
        for line in example.split(separator: "\n") {
            let text = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
            guard let name = text.split(separator: "=").first, name.allSatisfy({ $0.isUppercase || $0 == "_" }), name.count > 3,
                !name.hasPrefix("SYNC_"), !name.hasPrefix("MDP_"), text.contains("=")
            else { continue }
            #expect(names.contains(String(name)), "\(name) is in .env.example but not shown by --check-config")
        }
    }

    @Test func badOperationsSettingsAreRefusedByName() throws {
        #expect(throws: (any Error).self) { try Self.settings(["log.format": "xml"]) }
        #expect(throws: (any Error).self) { try Self.settings(["log.level": "loud"]) }
        #expect(throws: (any Error).self) { try Self.settings(["shutdown.grace": "0"]) }
        #expect(throws: (any Error).self) { try Self.settings(["http.directory_cache": "maybe"]) }
        #expect(throws: (any Error).self) { try Self.settings(["metrics.token": "x"]) }
        #expect(throws: (any Error).self) { try Self.settings(["metrics.token": " \n"]) }
        #expect(throws: (any Error).self) { try Self.settings(["app.url": "https://u:secret@front.example.fr"]) }
        #expect(try Self.settings(["http.directory_cache": "false"]).directoryCache == false)
        #expect(throws: (any Error).self) { try Self.settings(["webhook.allow_private_networks": "sometimes"]) }
        #expect(try Self.settings([:]).webhookPrivateNetworks == false)
        #expect(try Self.settings(["webhook.allow_private_networks": "true"]).webhookPrivateNetworks)
        #expect(throws: (any Error).self) { try Self.settings(["shutdown.grace": "99999999999999999999"]) }
        #expect(throws: (any Error).self) { try Self.settings(["retention.token_days": "0"]) }
        #expect(throws: (any Error).self) { try Self.settings(["retention.draft_card_days": "forever"]) }
        let retention = try Self.settings(["retention.notice_days": "7"]).retention
        #expect(retention.noticeDays == 7 && retention.tokenDays == RetentionPolicy().tokenDays)
        #expect(try Self.settings([:]).resolved.contains { $0.key == "RETENTION_NOTICE_DAYS" && $0.value == "30" })
    }

    @Test func eachSyncRunIsCountedByOutcomeInAFileTheTextfileCollectorReads() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sync-metrics-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("sync.prom")
        let metrics = SyncMetrics(file: file)
        var report = SyncReport()
        report.pushed = ["a.pdf", "b.pdf"]
        report.failed = ["c.pdf": "refused"]
        try metrics.record(code: SyncExit.someFilesFailed, report: report, seconds: 1.5, at: Date(timeIntervalSince1970: 1_800_000_000))
        try metrics.record(code: SyncExit.ok, report: SyncReport(), seconds: 0.25)
        try metrics.record(code: SyncExit.configurationError, report: nil, seconds: 0.1)
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(#"mdp_sync_runs_total{outcome="files_failed"} 1"#))
        #expect(text.contains(#"mdp_sync_runs_total{outcome="ok"} 1"#))
        #expect(text.contains(#"mdp_sync_runs_total{outcome="configuration_error"} 1"#))
        #expect(text.contains(#"mdp_sync_files_total{outcome="pushed"} 2"#))
        #expect(text.contains(#"mdp_sync_files_total{outcome="failed"} 1"#))
        #expect(text.contains("mdp_sync_last_run_exit_code 2"))
        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(permissions == 0o644)
        // Only the file itself is left: the temporary copy was renamed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["sync.prom"])
    }

    @Test func jsonLogsAreOneObjectPerLineWithTheRequestID() throws {
        let line = try #require(
            JSONLogHandler.line(
                level: .warning, message: "a \"quoted\"\nline", metadata: ["hb.request.id": "req-1", "status": .stringConvertible(404)],
                label: "mdp"))
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["request_id"] as? String == "req-1")
        #expect(object["message"] as? String == "a \"quoted\"\nline")
        #expect(object["level"] as? String == "warning")
        #expect(object["hb.request.id"] == nil)
        #expect(object["status"] as? Int == 404)
        #expect(line.last == 0x0A && line.dropLast().firstIndex(of: 0x0A) == nil)
    }

    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized }
}
