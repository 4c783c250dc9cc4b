import Domain
import Foundation
import GRDB
import Testing

@testable import Storage

@Suite("Constraints live in SQL")
struct ConstraintsTests {
    @Test func anAccountIsNeverBothAnExpertAndALaureateMemberEvenThroughRawSQL() throws {
        let database = try AppDatabase.throwaway()
        let expert = try database.importExpert(
            ExpertCardContent(firstName: "A", lastName: "B", contact: ContactDetails(email: "a@b.fr")), state: .draft)
        let laureate = try database.createLaureate(
            name: "Fab", legalEntity: "Asso", siret: "44306184100047", communeINSEE: "42218", communeName: "Saint-Étienne",
            departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: [], supportCeilingCents: 1_000_000,
            settings: .manufacturesDeProximite)
        #expect(throws: DatabaseError.self) {
            try database.engine.write { db in
                try db.execute(sql: "UPDATE account SET laureate_id = ? WHERE id = ?", arguments: [laureate.id, expert.account.id])
            }
        }
        #expect(throws: StorageError.emailTaken) {
            try database.createAccount(email: "A@B.fr", password: nil, role: .laureate, displayName: "x", link: .laureate(id: laureate.id))
        }
    }

    @Test func anExpertRoleNeedsACardAndALaureateRoleALaureate() throws {
        let database = try AppDatabase.throwaway()
        #expect(throws: DatabaseError.self) {
            try database.createAccount(email: "x@y.fr", password: nil, role: .expert, displayName: "x")
        }
        #expect(throws: DatabaseError.self) {
            try database.createAccount(email: "x@y.fr", password: nil, role: .laureate, displayName: "x")
        }
        #expect(try database.createAccount(email: "x@y.fr", password: nil, role: .admin, displayName: "x").role == .admin)
    }

    @Test func aPublishedCardAlwaysHasAPublicationDateAndUnknownStatesAreRefused() throws {
        let database = try AppDatabase.throwaway()
        let expert = try database.importExpert(
            ExpertCardContent(firstName: "A", lastName: "B", contact: ContactDetails(email: "a@b.fr")), state: .draft)
        #expect(throws: DatabaseError.self) {
            try database.engine.write { db in
                try db.execute(sql: "UPDATE expert SET state = 'published' WHERE id = ?", arguments: [expert.expertID])
            }
        }
        #expect(throws: DatabaseError.self) {
            try database.engine.write { db in
                try db.execute(sql: "UPDATE expert SET state = 'famous' WHERE id = ?", arguments: [expert.expertID])
            }
        }
    }

    @Test func revisionsOnlyGoUp() throws {
        let database = try AppDatabase.throwaway()
        let revisions = try (0..<5).map { _ in try database.engine.write { db in try AppDatabase.nextRevision(db) } }
        #expect(revisions == [1, 2, 3, 4, 5])
    }
}
