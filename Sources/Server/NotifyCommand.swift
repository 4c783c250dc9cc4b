import ArgumentParser
import Foundation
import Notify

/// `mdp notify once`: one pass of the notification worker, for a host that runs it from cron rather than inside
/// `mdp serve`. Same settings as `mdp serve` (SMTP_URL, SMTP_FROM, SMTP_CA_FILE, APP_URL).
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Send the notices waiting in the outbox.", subcommands: [Once.self])

    struct Once: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send what is due now, then exit (non-zero if some are failing).")

        @OptionGroup var location: DatabaseOptions

        func run() async throws {
            let settings = try await location.settings()
            // The programme's clock, as `mdp serve` runs it (PROGRAMME_TODAY anchored in the database).
            let database = try settings.openDatabaseOnProgrammeClock()
            defer { database.close() }
            let delivery = try settings.noticeDelivery(database, demo: false, ownURL: "http://\(settings.host):\(settings.port)")
            let report = try await delivery.runOnce()
            print("notifications: \(delivery.destination); \(report)")
            if report.postponed + report.failed + report.webhooksPostponed + report.webhooksFailed > 0 { throw ExitCode(1) }
        }
    }
}
