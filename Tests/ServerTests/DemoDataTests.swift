import Domain
import Foundation
import Storage
import Testing

@testable import Server

@Suite("Demo data")
struct DemoDataTests {
    @Test func theDemoHasAboutThreeHundredExpertsOverEveryThemeAndRegionAndTheRealProgrammesLaureates() async throws {
        let database = try AppDatabase.inMemory()
        var demo = DemoData()
        let logins = try demo.load(
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
