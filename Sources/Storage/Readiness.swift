import Foundation
import GRDB

extension AppDatabase {
    /// The migrations this binary has that the database lacks (an instance with any is not ready to serve).
    public func pendingMigrations() throws -> [String] {
        switch engine {
        case .sqlite(let writer):
            let applied = Set(try writer.read { db in try Migrations.migrator.appliedIdentifiers(db) })
            return Migrations.migrator.migrations.filter { !applied.contains($0) }
        case .postgres(let pool):
            return try PostgresMigrations.pending(pool)
        }
    }

    /// How many webhook deliveries are waiting, and how many ended each way.
    public func webhookDeliveryCounts() throws -> (waiting: Int, delivered: Int, failed: Int) {
        try engine.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT coalesce(outcome, 'waiting') AS outcome, count(*) AS n FROM webhook_delivery GROUP BY 1")
            {
                counts[row["outcome"]] = row["n"]
            }
            return (counts["waiting"] ?? 0, counts["delivered"] ?? 0, counts["failed"] ?? 0)
        }
    }
}
