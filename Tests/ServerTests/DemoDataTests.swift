import Domain
import Foundation
import Storage
import Testing

@testable import Server

@Suite("Demo data")
struct DemoDataTests {
    @Test func theDemoHasAboutThreeHundredExpertsOverEveryThemeAndRegionAndTheRealProgrammesLaureates() async throws {
        let clock = Date(timeIntervalSince1970: 1_710_493_200)  // 2024-03-15, inside the support window
        let database = try AppDatabase.throwaway(options: .init(clock: { clock }, bcryptCost: 4))
        var demo = DemoData()
        let logins = try await demo.load(
            into: database, settings: .manufacturesDeProximite, passwords: ("admin password 1", "expert password 1", "laureate password"))
        let index = try database.directoryIndex()
        #expect((200..<300).contains(index.count))
        let all = index.search(DirectoryQuery(), limit: 1000, facets: true)
        let facets = try #require(all.facets)
        #expect(facets.themes.map(\.code) == Taxonomy.themes.map(\.code))
        #expect(facets.regions.map(\.code) == Territories.regions.map(\.code))
        let submitted = try database.expertCards(state: .submitted, after: nil, limit: 100).cards
        let drafts = try database.expertCards(state: .draft, after: nil, limit: 100).cards
        #expect(!submitted.isEmpty && !drafts.isEmpty)
        #expect(index.count + submitted.count + drafts.count == DemoData.expertCount)
        #expect(try database.laureateCountsByTerritoryType() == [.rural: 43, .qpv: 18, .smallOrMediumTown: 39])
        for (email, password) in [logins.admin, logins.expert, logins.laureate] {
            #expect(try database.login(email: email, password: password, address: "test").account.email == email)
        }
        #expect(try !database.isEmpty())
        let summary = try database.programmeSummary()
        #expect(Set(summary.missionsByState.map(\.state)) == Set(MissionState.allCases))
        #expect(summary.committedCents > 0 && summary.spentCents > 0 && !summary.satisfactionByTheme.isEmpty)
        let admin = try #require(try database.account(email: logins.admin.email))
        let documents = try database.documents(for: admin, updatedAfter: 0, limit: 2000).documents
        #expect(Set(documents.map(\.kind)) == Set(DocumentKind.allCases.filter { $0 != .other }))
        let nearCeiling = try database.laureates().map { try database.budget(laureateID: $0.id, for: admin) }.filter {
            $0.remainingCents == 25_000
        }
        #expect(nearCeiling.count >= 3)
        #expect(try database.verifyAuditChain() == .intact(events: try database.events(after: 0, limit: 100_000).count))
    }

    @Test func theDemoIsTheSameOnEveryMachine() {
        var first = DemoData()
        var second = DemoData()
        #expect((0..<20).map { first.expertContent($0) } == (0..<20).map { second.expertContent($0) })
    }

    @Test func demoSiretsAreValid() {
        var demo = DemoData()
        for _ in 0..<200 { #expect(Siret.isValid(demo.siret())) }
    }
}

@Suite("One sync run per journal")
struct JournalLockTests {
    @Test func aSecondRunOnTheSameJournalIsRefusedAnotherJournalIsNot() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("sync-journal.sqlite.lock").path
        #expect(JournalLock.acquire(path))
        #expect(!JournalLock.acquire(path))
        #expect(JournalLock.acquire(folder.appendingPathComponent("other.sqlite.lock").path))
    }
}
