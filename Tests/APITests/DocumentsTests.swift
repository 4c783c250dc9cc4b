import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Testing

let pdf = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)

func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

@Suite("Documents")
struct DocumentsTests {
    @Test func aDossierDocumentIsReadByTheLaureateAndByExpertsOnlyOnceEngaged() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        let sync = try p.database.createAccount(email: "sync@ftl.fr", password: nil, role: .sync, displayName: "Sync")
        let syncToken = try p.database.createServiceToken(for: sync, name: "sync", days: 30).secret
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let uploaded = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=\(encoded("Candidature AMI été.pdf"))",
                token: laureate.token,
                bytes: pdf)
            #expect(uploaded.status == .created)
            let id = try #require(uploaded.body["id"] as? String)
            #expect(uploaded.body["sha256"] as? String == sha256(pdf) && uploaded.body["media_type"] as? String == "application/pdf")
            #expect(uploaded.body["drive_path"] as? String == "manufacture-1/dossier/application/Candidature AMI été.pdf")
            let content = "/v1/documents/\(id)/content"
            #expect(try await client.send(.get, content, token: p.expert).status == .notFound)
            #expect(try await client.send(.get, content, token: p.laureates[1].token).status == .notFound)
            #expect(try await client.send(.get, content).status == .unauthorized)
            #expect(try await client.send(.get, content, token: p.admin).status == .ok)
            #expect(try await client.send(.get, content, token: syncToken).status == .ok)
            // Experts never add to a dossier, even engaged.
            let mission = try await client.newMission(p, by: laureate, title: "t")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            let download = try await client.send(.get, content, token: p.expert)
            #expect(download.status == .ok && Array(download.data) == pdf)
            #expect(download.etag == "\"\(sha256(pdf))\"" && download.headers[.acceptRanges] == "bytes")
            #expect(download.headers[.contentDisposition]?.contains("filename*=UTF-8''Candidature%20AMI%20%C3%A9t%C3%A9.pdf") == true)
            #expect(try await client.send(.get, content, token: p.otherExpert).status == .notFound)
            let byExpert = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=post_incubation&file_name=x.pdf", token: p.expert, bytes: pdf)
            #expect(byExpert.status == .forbidden)
        }
    }

    @Test func rangesRevalidationAndVersions() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let uploaded = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=framing_note&file_name=note.pdf", token: laureate.token, bytes: pdf)
            let id = try #require(uploaded.body["id"] as? String)
            let content = "/v1/documents/\(id)/content"
            let head = try await client.send(.get, content, token: laureate.token, headers: [.range: "bytes=0-3"])
            #expect(head.status == .partialContent && String(decoding: head.data, as: UTF8.self) == "%PDF")
            #expect(head.headers[.contentRange] == "bytes 0-3/\(pdf.count)")
            let tail = try await client.send(.get, content, token: laureate.token, headers: [.range: "bytes=-6"])
            #expect(Array(tail.data) == Array(pdf.suffix(6)))
            let outside = try await client.send(.get, content, token: laureate.token, headers: [.range: "bytes=100000-"])
            #expect(outside.status == .rangeNotSatisfiable && outside.headers[.contentRange] == "bytes */\(pdf.count)")
            let same = try await client.send(.get, content, token: laureate.token, headers: [.ifNoneMatch: "\"\(sha256(pdf))\""])
            #expect(same.status == .notModified)

            let second = Array("Note de cadrage, version 2\n".utf8)
            let stale = try await client.upload(
                "/v1/documents/\(id)/versions", token: laureate.token, bytes: second, headers: [.ifMatch: "\"r1\""])
            #expect(stale.status == .preconditionFailed)
            let notSync = try await client.upload(
                "/v1/documents/\(id)/versions?conflict=true", token: laureate.token, bytes: second, headers: [.ifMatch: uploaded.etag!])
            #expect(notSync.status == .forbidden)
            let versioned = try await client.upload(
                "/v1/documents/\(id)/versions?file_name=note-v2.txt", token: laureate.token, bytes: second,
                headers: [.ifMatch: uploaded.etag!])
            #expect(
                versioned.status == .created && versioned.body["version"] as? Int == 2
                    && versioned.body["file_name"] as? String == "note-v2.txt")
            #expect(Array(try await client.send(.get, content, token: laureate.token).data) == second)
            #expect(Array(try await client.send(.get, content + "?version=1", token: laureate.token).data) == pdf)
            #expect(try await client.send(.get, content + "?version=9", token: laureate.token).status == .notFound)
        }
    }

    @Test func theTypeComesFromTheBytesAndTheSizeIsCapped() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database, maxDocumentBytes: 1024).test(.router) { client in
            let uri = "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=rapport.pdf"
            let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + Array(repeating: 0, count: 64)
            let refused = try await client.upload(uri, token: laureate.token, bytes: elf)
            #expect(refused.status == .unsupportedMediaType && refused.code == "unsupported_type")
            let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 26) + Array("evil.exe".utf8)
            #expect(try await client.upload(uri, token: laureate.token, bytes: zip).status == .unsupportedMediaType)
            let big = try await client.upload(uri, token: laureate.token, bytes: pdf + Array(repeating: 0x20, count: 2000))
            #expect(big.status == .contentTooLarge)
            #expect(try await client.upload(uri, token: laureate.token, bytes: []).status == .unprocessableContent)
            let csv = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=budget.csv", token: laureate.token,
                bytes: Array("poste;montant\nbois;1200\n".utf8))
            #expect(csv.body["media_type"] as? String == "text/csv; charset=utf-8")
            let wrongKind = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=quote&file_name=q.pdf", token: laureate.token, bytes: pdf)
            #expect(wrongKind.status == .unprocessableContent)
            // Nothing refused was kept: only the CSV is listed.
            let feed = try await client.send(.get, "/v1/documents", token: laureate.token)
            #expect((feed.body["items"] as? [[String: Any]])?.compactMap { $0["file_name"] as? String } == ["budget.csv"])
        }
    }

    @Test(arguments: DriveLayoutTestsNames.hostile)
    func hostileFileNamesAreSanitisedAndStillDownloadable(_ name: String) async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            let reply = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=\(encoded(name))", token: laureate.token, bytes: pdf)
            #expect(reply.status == .created, "\(name)")
            let stored = try #require(reply.body["file_name"] as? String)
            #expect(stored == FileName.sanitised(name))
            let path = try #require(reply.body["drive_path"] as? String)
            #expect(try DriveLayout.location(of: path).fileName == stored)
            let id = try #require(reply.body["id"] as? String)
            let download = try await client.send(.get, "/v1/documents/\(id)/content", token: laureate.token)
            #expect(download.status == .ok && download.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"") == true)
        }
    }

    /// `X-Content-SHA256` is a promise about the bytes: a file that arrives with other bytes (cut, altered on the way, or
    /// the wrong file) is refused on every upload, a first one included, and nothing of it is recorded.
    @Test func aFileWhoseBytesAreNotItsDeclaredDigestIsRefusedAndNothingIsRecorded() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "t")
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            let other = Array("%PDF-1.7\nanother file\n%%EOF\n".utf8)
            let wrong: HTTPFields = [HTTPField.Name("X-Content-SHA256")!: sha256(other)]
            let right: HTTPFields = [HTTPField.Name("X-Content-SHA256")!: sha256(pdf)]
            let dossier = "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=dossier.pdf"
            let missionFiles = "/v1/missions/\(mission)/documents?kind=diagnostic&file_name=diagnostic.pdf"
            for (uri, token) in [(dossier, laureate.token), (missionFiles, p.expert)] {
                let refused = try await client.upload(uri, token: token, bytes: pdf, headers: wrong)
                #expect(refused.status == .unprocessableContent && refused.code == "digest_mismatch", "\(refused.body)")
                #expect(refused.pointers == ["/X-Content-SHA256"])
            }
            let listed = try await client.send(.get, "/v1/laureates/\(laureate.id)/documents", token: laureate.token)
            #expect((listed.body["items"] as? [Any])?.isEmpty == true)
            let filed = try await client.send(.get, "/v1/missions/\(mission)/documents", token: laureate.token)
            #expect((filed.body["items"] as? [Any])?.isEmpty == true)

            // The same Idempotency-Key, first with the wrong bytes, then with the declared ones: the refusal is not kept
            // as the key's answer (the request it names never arrived), so the retry is carried out.
            var keyed = right
            keyed[HTTPField.Name("Idempotency-Key")!] = "envoi-verifie"
            let altered = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOG\n".utf8)
            #expect(try await client.upload(dossier, token: laureate.token, bytes: altered, headers: keyed).code == "digest_mismatch")
            let added = try await client.upload(dossier, token: laureate.token, bytes: pdf, headers: keyed)
            #expect(added.status == .created && added.headers[HTTPField.Name("Idempotent-Replayed")!] == nil, "\(added.body)")
            let id = try #require(added.body["id"] as? String)
            var version = wrong
            version[.ifMatch] = added.etag
            let refused = try await client.upload("/v1/documents/\(id)/versions", token: laureate.token, bytes: pdf, headers: version)
            #expect(refused.status == .unprocessableContent && refused.code == "digest_mismatch")
            let document = try await client.send(.get, "/v1/documents/\(id)", token: laureate.token)
            #expect(document.body["version"] as? Int == 1 && document.etag == added.etag)
        }
    }

    @Test func missionFilesAreWritableByTheExpertOnlyWhileTheMissionIsUnderWay() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        try await makeApplication(database: p.database).test(.router) { client in
            try await client.note(laureate)
            let mission = try await client.newMission(p, by: laureate, title: "t")
            let uri = "/v1/missions/\(mission)/documents?kind=diagnostic&file_name=diagnostic.pdf"
            #expect(try await client.upload(uri, token: p.expert, bytes: pdf).status == .forbidden)
            _ = try await client.step(mission, p.expert, ["action": "scope"], reader: p.admin)
            let added = try await client.upload(uri, token: p.expert, bytes: pdf)
            #expect(
                added.status == .created
                    && (added.body["drive_path"] as? String)?.hasPrefix("manufacture-1/missions/2023-0001/diagnostic/") == true)
            #expect(try await client.upload(uri, token: p.otherExpert, bytes: pdf).status == .notFound)
            #expect(try await client.upload(uri, token: p.laureates[1].token, bytes: pdf).status == .notFound)
            _ = try await client.step(mission, p.expert, proposalBody(totalBeforeVAT: 100_000), reader: p.admin)
            _ = try await client.step(mission, laureate.token, ["action": "accept"], reader: p.admin)
            _ = try await client.step(mission, p.expert, reportBody, reader: p.admin)
            _ = try await client.step(mission, laureate.token, reviewBody, reader: p.admin)
            #expect(try await client.upload(uri, token: p.expert, bytes: pdf).status == .forbidden)
            let id = try #require(added.body["id"] as? String)
            #expect(try await client.send(.get, "/v1/documents/\(id)/content", token: p.expert).status == .ok)
        }
    }

    @Test func theFeedGivesWhatChangedWithTombstonesAndOnlyTheSyncRoleUploadsFromTheDrive() async throws {
        let p = try Programme.make()
        let laureate = p.laureates[0]
        let sync = try p.database.createAccount(email: "sync@ftl.fr", password: nil, role: .sync, displayName: "Sync")
        let syncToken = try p.database.createServiceToken(for: sync, name: "sync", days: 30).secret
        try await makeApplication(database: p.database).test(.router) { client in
            let first = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=a.pdf", token: laureate.token, bytes: pdf)
            _ = try await client.upload(
                "/v1/laureates/\(p.laureates[1].id)/documents?kind=application&file_name=b.pdf", token: p.laureates[1].token, bytes: pdf)
            let all = try await client.send(.get, "/v1/documents", token: syncToken)
            #expect((all.body["items"] as? [Any])?.count == 2)
            let cursor = try #require(all.body["next_cursor"] as? String)
            #expect((try await client.send(.get, "/v1/documents", token: laureate.token).body["items"] as? [Any])?.count == 1)
            #expect(
                (try await client.send(.get, "/v1/documents?updated_after=\(cursor)", token: syncToken).body["items"] as? [Any])?.isEmpty
                    == true)

            let byMember = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=application&file_name=c.pdf&source=drive", token: laureate.token, bytes: pdf)
            #expect(byMember.status == .forbidden)
            let fromDrive = try await client.upload(
                "/v1/laureates/\(laureate.id)/documents?kind=post_incubation&file_name=c.pdf&source=drive", token: syncToken, bytes: pdf)
            #expect(fromDrive.status == .created && fromDrive.body["source"] as? String == "drive")

            let id = try #require(first.body["id"] as? String)
            let withdrawn = try await client.send(.delete, "/v1/documents/\(id)", token: laureate.token, headers: [.ifMatch: first.etag!])
            #expect(withdrawn.status == .ok && withdrawn.body["withdrawn"] as? Bool == true)
            let delta = try await client.send(.get, "/v1/documents?updated_after=\(cursor)", token: syncToken)
            let items = delta.body["items"] as? [[String: Any]] ?? []
            #expect(items.compactMap { $0["file_name"] as? String } == ["c.pdf", "a.pdf"])
            #expect(items.last?["withdrawn"] as? Bool == true)
            // Versions and blobs are kept: the bytes stay readable for the record.
            #expect(try await client.send(.get, "/v1/documents/\(id)/content", token: p.admin).status == .ok)
        }
    }
}

/// The hostile names of the Drive layout's tests, reused through the API.
enum DriveLayoutTestsNames {
    static let hostile: [String] = [
        "Compte rendu e\u{301}te\u{301}.pdf", "devis \"final\" l'atelier.pdf", "..", "../../etc/passwd", "a/b\\c.pdf", "50% #2 ?.pdf",
        "🧵🪡 fil.pdf", String(repeating: "é", count: 200) + ".pdf", "",
    ]
}
