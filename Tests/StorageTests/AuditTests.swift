import Domain
import Foundation
import GRDB
import Testing

@testable import Storage

@Suite("The audit log")
struct AuditTests {
    static func databaseWithEvents() throws -> AppDatabase {
        let database = try AppDatabase.throwaway()
        let admin = try database.createAccount(email: "a@ftl.fr", password: nil, role: .admin, displayName: "A")
        for index in 0..<4 {
            try database.createLaureate(
                name: "Fab \(index)", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218", communeName: "Saint-Étienne",
                departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: [], supportCeilingCents: 1_000_000,
                settings: .manufacturesDeProximite, by: admin)
        }
        return database
    }

    @Test func everyWriteAppendsAChainedEvent() throws {
        let database = try Self.databaseWithEvents()
        let events = try database.events(after: 0, limit: 100)
        #expect(events.map(\.action) == ["account.created"] + Array(repeating: "laureate.created", count: 4))
        #expect(events.first?.previousHash == String(repeating: "0", count: 64))
        for (previous, event) in zip(events, events.dropFirst()) { #expect(event.previousHash == previous.hash) }
        #expect(try database.verifyAuditChain() == .intact(events: 5))
    }

    @Test func theLogRefusesUpdatesAndDeletes() throws {
        let database = try Self.databaseWithEvents()
        #expect(throws: DatabaseError.self) {
            try database.engine.write { db in try db.execute(sql: "UPDATE event SET action = 'x' WHERE seq = 2") }
        }
        #expect(throws: DatabaseError.self) {
            try database.engine.write { db in try db.execute(sql: "DELETE FROM event WHERE seq = 5") }
        }
    }

    @Test func verificationNamesTheFirstTamperedEntry() throws {
        let database = try Self.databaseWithEvents()
        try database.engine.write { db in
            try db.execute(sql: "DROP TRIGGER event_is_append_only_update" + (db.dialect == .postgres ? " ON event" : ""))
            try db.execute(sql: "UPDATE event SET subject_id = 'someone-else' WHERE seq = 3")
        }
        #expect(try database.verifyAuditChain() == .broken(seq: 3, reason: "its content does not match its hash"))
    }

    @Test func verificationNamesADeletedEntry() throws {
        let database = try Self.databaseWithEvents()
        try database.engine.write { db in
            try db.execute(sql: "DROP TRIGGER event_is_append_only_delete" + (db.dialect == .postgres ? " ON event" : ""))
            try db.execute(sql: "DELETE FROM event WHERE seq = 2")
        }
        #expect(try database.verifyAuditChain() == .broken(seq: 2, reason: "entry 2 is missing"))
    }

    @Test func framingNoteVersionsAreKeptAsWritten() throws {
        let database = try Self.databaseWithEvents()
        let laureate = try database.laureates().first!
        let admin = try database.account(email: "a@ftl.fr")!
        _ = try database.reviseFramingNote(
            laureateID: laureate.id, needs: [Need(subthemeCode: "1.1", priority: .high, description: "")], by: admin)
        _ = try database.reviseFramingNote(
            laureateID: laureate.id, needs: [Need(subthemeCode: "4.2", priority: .low, description: "")], by: admin)
        #expect(try database.framingNotes(laureateID: laureate.id, for: admin).map(\.note.version) == [1, 2])
        #expect(throws: DatabaseError.self) {
            try database.engine.write { db in try db.execute(sql: "UPDATE framing_note SET needs = '[]'") }
        }
    }
}
