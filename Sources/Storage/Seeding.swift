import Domain
import Foundation
import GRDB

extension AppDatabase {
    /// Adds an expert card in any state with its account (demo data, imports of existing cards, tests): the same
    /// rows registration and review would have written. An account without a password logs in only with a token.
    @discardableResult
    public func importExpert(_ content: ExpertCardContent, state: CardState, password: String? = nil) throws -> (
        expertID: String, account: Account
    ) {
        let email = Credentials.normalisedEmail(content.contact.email)
        var errors = content.shapeErrors()
        if state != .draft { errors += content.submissionErrors().filter { !errors.contains($0) } }
        guard errors.isEmpty else { throw StorageError.invalid(errors) }
        let hash = password.map { Secrets.hashPassword($0, cost: options.bcryptCost) }
        let result = try engine.write { db -> (String, Account) in
            guard try !Self.emailExists(db, email) else { throw StorageError.emailTaken }
            let expertID = try insertExpert(db, content: content, state: state)
            let account = Account(
                id: Self.newID(), email: email, role: .expert, displayName: "\(content.firstName) \(content.lastName)",
                link: .expert(id: expertID))
            try db.execute(
                sql:
                    "INSERT INTO account (id, email, password_hash, role, display_name, expert_id, created_at) VALUES (?, ?, ?, 'expert', ?, ?, ?)",
                arguments: [account.id, email, hash, account.displayName, expertID, now])
            try Self.appendEvent(
                db, at: now, actorID: nil, action: "expert.imported", subjectType: "expert", subjectID: expertID,
                before: ExpertCardContent?.none, after: content)
            try Self.announceDirectoryChange(db)
            return (expertID, account)
        }
        directory.invalidate()
        return result
    }

    /// Adds a laureate under the programme's settings; its slug is made unique among laureates.
    @discardableResult
    public func createLaureate(
        name: String, legalEntity: String, siret: String, communeINSEE: String, communeName: String, departmentCode: String,
        territoryTypes: Set<TerritoryType>, cohort: Int, sectors: [String], supportCeilingCents: Int, settings: ProgrammeSettings,
        by account: Account? = nil
    ) throws -> Laureate {
        let taken = try engine.read { db in try Set(String.fetchAll(db, sql: "SELECT slug FROM laureate")) }
        var laureate = Laureate(
            id: Self.newID(), name: name, slug: Slug.unique(name, taken: taken), legalEntity: legalEntity, siret: Siret.normalised(siret),
            communeINSEE: communeINSEE, communeName: communeName, departmentCode: departmentCode, territoryTypes: territoryTypes,
            cohort: cohort, sectors: sectors, supportCeilingCents: supportCeilingCents)
        let errors = laureate.errors(settings: settings)
        guard errors.isEmpty else { throw StorageError.invalid(errors) }
        try engine.write { db in
            let taken = try Set(String.fetchAll(db, sql: "SELECT slug FROM laureate"))
            laureate.slug = Slug.unique(name, taken: taken)
            let types = String(decoding: try JSONEncoder().encode(territoryTypes.map(\.rawValue).sorted()), as: UTF8.self)
            let sectorsJSON = String(decoding: try JSONEncoder().encode(sectors), as: UTF8.self)
            try db.execute(
                sql: """
                    INSERT INTO laureate (id, name, slug, legal_entity, siret, commune_insee, commune_name, department_code,
                        territory_types, cohort, sectors, support_ceiling_cents, revision, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    laureate.id, name, laureate.slug, legalEntity, laureate.siret, communeINSEE, communeName, departmentCode, types,
                    cohort, sectorsJSON, supportCeilingCents, try Self.nextRevision(db), now,
                ])
            try Self.appendEvent(
                db, at: now, actorID: account?.id, action: "laureate.created", subjectType: "laureate", subjectID: laureate.id,
                before: Laureate?.none, after: laureate)
        }
        return laureate
    }

    /// How many laureates there are by priority territory type.
    public func laureateCountsByTerritoryType() throws -> [TerritoryType: Int] {
        try engine.read { db in
            var counts: [TerritoryType: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT value, count(*) AS n FROM laureate, json_each(laureate.territory_types) GROUP BY value")
            {
                if let type = TerritoryType(rawValue: row["value"]) { counts[type] = row["n"] }
            }
            return counts
        }
    }

    /// True when nothing but the schema is there yet: demo data goes only into an empty database.
    public func isEmpty() throws -> Bool {
        try engine.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM laureate)") == 0
        }
    }
}

extension AppDatabase {
    /// When the programme's `day` (a demo's or a training's) began in real time: the first time an instance asked for
    /// that day, kept in the database so every instance and every restart share one clock.
    public func programmeClockAnchor(day: String, now: Date) throws -> Date {
        try engine.write { db in
            let key = "programme_clock"
            if let stored = try String.fetchOne(db, sql: "SELECT value FROM instance WHERE key = ?", arguments: [key]),
                let anchor = try? JSONDecoder().decode(ClockAnchor.self, from: Data(stored.utf8)), anchor.day == day
            {
                return anchor.real
            }
            let value = String(decoding: try JSONEncoder().encode(ClockAnchor(day: day, real: now)), as: UTF8.self)
            try db.execute(sql: "DELETE FROM instance WHERE key = ?", arguments: [key])
            try db.execute(sql: "INSERT INTO instance (key, value) VALUES (?, ?)", arguments: [key, value])
            return now
        }
    }

    /// The programme day this database's clock was started on (`PROGRAMME_TODAY` or the demo's), nil on the real clock.
    public func storedProgrammeDay() throws -> String? {
        try engine.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM instance WHERE key = 'programme_clock'").flatMap {
                try? JSONDecoder().decode(ClockAnchor.self, from: Data($0.utf8)).day
            }
        }
    }

    private struct ClockAnchor: Codable {
        let day: String
        let real: Date
    }
}
