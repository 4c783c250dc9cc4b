import Domain
import Foundation
import HTTPTypes
import Storage
import Testing

/// Reports for the team through the contract: French CSV and OpenDocument, admin only, a period that narrows.
@Suite("Exports for the programme team")
struct ExportsTests {
    @Test func theTeamExportsMissionsWithTheirAmountsAndTheDirectoryWithoutFormulas() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        var hostile = sampleCard(first: "Mallory", last: "=1+1", email: "mallory@example.fr", summary: "@SUM(A1)")
        hostile.contact.website = "https://mallory.example.fr"
        _ = try p.database.importExpert(hostile, state: .published)
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "Modèle; économique")
            #expect(try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin).status == .ok)
            #expect(try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 500_000), reader: p.admin).status == .ok)
            #expect(try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin).status == .ok)

            let missions = try await client.send(.get, "/v1/exports/missions", token: p.admin)
            #expect(missions.status == .ok && missions.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(missions.headers[.contentDisposition]?.contains("missions-2023-06-01.csv") == true)
            #expect(Array(missions.data.prefix(3)) == FrenchCSV.byteOrderMark)
            let lines = String(decoding: missions.data.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n")
            #expect(lines.first == ReportDataset.missions.headers.joined(separator: ";"))
            #expect(lines.count == 3 && lines.last == "")  // the header, one mission with one laureate, the final CRLF
            let row = lines[1].components(separatedBy: ";")
            // The title holds a separator: quoted, so the row still splits into the header's columns after the quoted field.
            #expect(lines[1].hasPrefix("2023-0001;\"Modèle; économique\";acceptée;01/06/2023;01/06/2023;;"))
            #expect(row.suffix(4) == ["5000,00", "1000,00", "6000,00", "6000,00"])
            #expect(lines[1].contains(";Manufacture 1;44306184100047;42;Auvergne-Rhône-Alpes;non;"))

            let directory = try await client.send(.get, "/v1/exports/directory", token: p.admin)
            let text = String(decoding: directory.data.dropFirst(3), as: UTF8.self)
            #expect(text.contains("\r\n'=1+1;Mallory;'=1+1 Conseil;"))
            #expect(!text.contains(";=") && !text.contains("\r\n="))
            // Only what the public directory shows: Claire Martin agreed to publish her website, not her e-mail.
            #expect(text.contains("https://martin.example.fr") && !text.contains("claire@conseil.fr"))

            let budgets = try await client.send(.get, "/v1/exports/budgets", token: p.admin)
            let budgetLines = String(decoding: budgets.data.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n")
            #expect(
                budgetLines[1]
                    == "Manufacture 1;44306184100047;Saint-Étienne;42;Auvergne-Rhône-Alpes;1;15000,00;6000,00;0,00;0,00;9000,00;1")
            #expect(budgetLines.count == 5)
        }
    }

    @Test func aPooledRequestIsExportedPooledWithEveryInvitedLaureate() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            for laureate in p.laureates { try await client.note(laureate) }
            let created = try await client.send(
                .post, "/v1/missions", token: p.laureates[0].token,
                json: ["title": "Mutualisée", "expert_id": p.expertID, "laureate_ids": p.laureates.map(\.id)])
            #expect(created.status == .created)
            let export = try await client.send(.get, "/v1/exports/missions", token: p.admin)
            let rows = String(decoding: export.data.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n").dropFirst().filter {
                !$0.isEmpty
            }
            let header = ReportDataset.missions.headers
            let pooled = try #require(header.firstIndex(of: "Mutualisée"))
            let participation = try #require(header.firstIndex(of: "Participation"))
            let cells = rows.map { $0.components(separatedBy: ";") }
            #expect(cells.count == 3 && cells.allSatisfy { $0[pooled] == "oui" })
            #expect(cells.map { $0[participation] } == ["demandeur", "invité", "invité"])
        }
    }

    @Test func aMissionTitleHasAtMostTwoHundredCharacters() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(p.laureates[0])
            let long = try await client.send(
                .post, "/v1/missions", token: p.laureates[0].token,
                json: ["title": String(repeating: "a", count: 201), "expert_id": p.expertID, "laureate_ids": [p.laureates[0].id]])
            #expect(long.status == .unprocessableContent && long.pointers == ["/title"])
        }
    }

    @Test func anOpenDocumentSpreadsheetStartsWithItsStoredMediaType() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            let reply = try await client.send(.get, "/v1/exports/budgets?format=ods", token: p.admin)
            #expect(reply.status == .ok && reply.headers[.contentType] == OpenDocumentSheet.mediaType)
            #expect(reply.headers[.contentDisposition]?.contains("budgets-2023-06-01.ods") == true)
            let bytes = Array(reply.data)
            // A zip whose first entry is `mimetype`, stored (method 0), holding the media type: how tools recognise ODS.
            #expect(bytes.count > 200 && bytes.prefix(4) == [0x50, 0x4B, 0x03, 0x04] && bytes[8] == 0 && bytes[9] == 0)
            #expect(String(decoding: bytes[30..<38], as: UTF8.self) == "mimetype")
            #expect(
                String(decoding: bytes[38..<(38 + OpenDocumentSheet.mediaType.utf8.count)], as: UTF8.self) == OpenDocumentSheet.mediaType)
        }
    }

    @Test func onlyTheTeamExportsAndBadParametersAreNamed() async throws {
        let p = try Programme.make()
        try await makeApplication(database: p.database).test(.router) { client in
            for dataset in ReportDataset.allCases {
                let path = "/v1/exports/\(dataset.rawValue)"
                #expect(try await client.send(.get, path).status == .unauthorized)
                #expect(try await client.send(.get, path, token: p.laureates[0].token).status == .forbidden)
                #expect(try await client.send(.get, path, token: p.expert).status == .forbidden)
                #expect(try await client.send(.get, path + "?format=ods", token: p.expert).status == .forbidden)
                #expect(try await client.send(.get, path, token: p.admin).status == .ok)
            }
            #expect(try await client.send(.get, "/v1/exports/secrets", token: p.admin).status == .badRequest)
            #expect(try await client.send(.get, "/v1/exports/missions?format=xlsx", token: p.admin).status == .badRequest)
            let badDay = try await client.send(.get, "/v1/exports/events?since=2024-02-30", token: p.admin)
            #expect(badDay.status == .badRequest && badDay.pointers == ["/since"])
            let reversed = try await client.send(.get, "/v1/exports/events?since=2024-03-02&until=2024-03-01", token: p.admin)
            #expect(reversed.status == .badRequest && reversed.pointers == ["/until"])

            // The period narrows events: the fixture's events all happened on 2023-06-01 (Paris).
            func rows(_ query: String) async throws -> Int {
                let reply = try await client.send(.get, "/v1/exports/events" + query, token: p.admin)
                return String(decoding: reply.data.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n").count - 2
            }
            let all = try await rows("")
            #expect(all > 5)
            #expect(try await rows("?since=2023-06-01&until=2023-06-01") == all)
            #expect(try await rows("?until=2023-05-31") == 0)
            #expect(try await rows("?since=2023-06-02") == 0)
        }
    }
}
