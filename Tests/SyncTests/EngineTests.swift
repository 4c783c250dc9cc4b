import Crypto
import Domain
import Foundation
import Testing

@testable import Sync

/// The live API `make test` starts (scripts/with-test-servers.sh), driven as the programme team would.
struct LiveAPI {
    let base: String
    let admin: String
    let syncToken: String
    let http = HTTPClient()

    static func fromEnvironment() async throws -> LiveAPI? {
        let environment = ProcessInfo.processInfo.environment
        guard let base = environment["MDP_TEST_API"], let admin = environment["MDP_TEST_ADMIN"],
            let tokenFile = environment["MDP_TEST_SYNC_TOKEN_FILE"]
        else { return nil }
        let parts = admin.split(separator: ":", maxSplits: 1).map(String.init)
        let http = HTTPClient()
        let login = try await http.perform(
            HTTPRequest(
                method: "POST", url: base + "/v1/auth/token", headers: [("Content-Type", "application/json")],
                body: .data(try JSONSerialization.data(withJSONObject: ["email": parts[0], "password": parts[1]]))))
        let token = try #require(try JSONSerialization.jsonObject(with: login.body) as? [String: Any])["token"] as! String
        let sync = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return LiveAPI(base: base, admin: token, syncToken: sync)
    }

    @discardableResult
    func call(_ method: String, _ path: String, json: [String: Any]? = nil, bytes: [UInt8]? = nil, headers: [(String, String)] = [])
        async throws -> (status: Int, body: [String: Any], etag: String?)
    {
        var all = headers + [("Authorization", "Bearer \(admin)")]
        var body: HTTPRequest.Body = .none
        if let json {
            all.append(("Content-Type", "application/json"))
            body = .data(try JSONSerialization.data(withJSONObject: json))
        } else if let bytes {
            all.append(("Content-Type", "application/octet-stream"))
            body = .data(Data(bytes))
        }
        let response = try await http.perform(HTTPRequest(method: method, url: base + path, headers: all, body: body))
        let decoded = (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]) ?? [:]
        return (response.status, decoded, response.header("etag"))
    }

    /// Adds a dossier document as the team would (any file name); returns its id.
    @discardableResult
    func addDocument(to laureate: String, kind: String, name: String, _ bytes: [UInt8]) async throws -> String {
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let created = try await call("POST", "/v1/laureates/\(laureate)/documents?kind=\(kind)&file_name=\(encoded)", bytes: bytes)
        #expect(created.status == 201)
        return try #require(created.body["id"] as? String)
    }

    /// Adds a version to a document, based on the revision read just before.
    func addVersion(to document: String, _ bytes: [UInt8]) async throws {
        let current = try await call("GET", "/v1/documents/\(document)")
        #expect(
            try await call("POST", "/v1/documents/\(document)/versions", bytes: bytes, headers: [("If-Match", current.etag!)]).status == 201
        )
    }

    /// The feed's latest entry for a Drive path, paging through the whole feed (other suites add documents meanwhile).
    /// Every item of the documents feed, page after page, in the feed's order (a document changed twice is in it once,
    /// at its last change).
    func feedItems() async throws -> [[String: Any]] {
        var cursor = "0"
        var items: [[String: Any]] = []
        while true {
            let page = try await call("GET", "/v1/documents?limit=100&updated_after=\(cursor)")
            items += page.body["items"] as? [[String: Any]] ?? []
            guard page.body["has_more"] as? Bool == true, let next = page.body["next_cursor"] as? String else { return items }
            cursor = next
        }
    }

    /// The feed's item for a Drive path (the latest, should the path have changed hands).
    func feedItem(drivePath: String) async throws -> [String: Any]? {
        try await feedItems().last { $0["drive_path"] as? String == drivePath }
    }

    func newLaureate() async throws -> (id: String, slug: String) {
        let reply = try await call(
            "POST", "/v1/laureates",
            json: [
                "name": "Sync \(UUID().uuidString.prefix(6))", "legal_entity": "SCIC", "siret": "44306184100047", "commune_insee": "42218",
                "commune_name": "Saint-Étienne", "department": "42", "territory_types": ["rural"], "cohort": 1,
                "support_ceiling_cents": 1_000_000,
            ])
        #expect(reply.status == 201)
        return (reply.body["id"] as! String, reply.body["slug"] as! String)
    }
}

func sha(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

@Suite("The sync engine against the live API and real Drives", .serialized, .enabled(if: !TestServers.all.isEmpty))
struct EngineTests {
    func engine(_ server: String, root: String, journal: URL, api: LiveAPI, force: Bool = false) throws -> SyncEngine {
        let base = TestServers.all.first { $0.name == server }!.url.appendingPathComponent(root)
        var options = SyncOptions()
        options.force = force
        options.baseDelay = 0.01
        return SyncEngine(
            api: APIClient(base: URL(string: api.base)!, token: api.syncToken, http: HTTPClient()),
            drive: WebDAVClient(base: base, http: HTTPClient()), journal: try Journal(path: journal.path), options: options)
    }

    @Test(arguments: TestServers.names)
    func bothSidesStayInStepWithoutLosingAnything(_ server: String) async throws {
        let api = try #require(try await LiveAPI.fromEnvironment(), "make test starts the live API")
        let root = "programme-\(UUID().uuidString.prefix(8))"
        let dav = TestServers.client(server)
        try await dav.makeCollection(root)
        let rootDAV = WebDAVClient(base: dav.base.appendingPathComponent(root), http: dav.http)
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).sqlite")
        let laureate = try await api.newLaureate()
        let application = Array("%PDF-1.4\ncandidature\n%%EOF\n".utf8)
        let postIncubation = Array("Dossier post-incubation : version 1\n".utf8)
        let appID = try await api.addDocument(to: laureate.id, kind: "application", name: "candidature.pdf", application)
        let postID = try await api.addDocument(to: laureate.id, kind: "post_incubation", name: "rendu.txt", postIncubation)
        let appPath = "\(laureate.slug)/dossier/application/candidature.pdf"
        let postPath = "\(laureate.slug)/dossier/post_incubation/rendu.txt"

        // 1. New documents go up, byte for byte.
        var report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(report.failed.isEmpty, "\(report.failed)")
        #expect(report.pushed.contains(appPath) && report.pushed.contains(postPath))
        let fetched = FileManager.default.temporaryDirectory.appendingPathComponent("fetched-\(UUID().uuidString)")
        _ = try await rootDAV.get(appPath, to: fetched)
        #expect(sha(Array(try Data(contentsOf: fetched))) == sha(application))

        // 2. Nothing changed: nothing moves, and nothing is read back (the tags of what was just pushed are trusted).
        report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(!report.pushed.contains(appPath) && !report.pulled.contains(appPath) && report.conflicts.isEmpty)
        #expect(report.readAgain.isEmpty, "\(report.readAgain)")

        // 3. A file dropped on the Drive in a known folder becomes a document (source drive).
        let note = Array("Note de cadrage déposée sur le Drive\n".utf8)
        let notePath = "\(laureate.slug)/dossier/framing_note/note.txt"
        try await rootDAV.makeCollection("\(laureate.slug)/dossier/framing_note")
        _ = try await rootDAV.put(notePath, file: try temporaryFile(note), precondition: .create)
        // 4. A same-size edit on the Drive is caught.
        let edited = Array("%PDF-1.4\nCANDIDATURE\n%%EOF\n".utf8)
        #expect(edited.count == application.count)
        _ = try await rootDAV.put(
            appPath, file: try temporaryFile(edited), precondition: .replace(etag: try await strongETag(rootDAV, appPath)))
        // 5. Unknown places are reported, never guessed.
        _ = try await rootDAV.put("\(laureate.slug)/divers.txt", file: try temporaryFile(Array("?".utf8)), precondition: .create)
        report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(report.failed.isEmpty, "\(report.failed)")
        #expect(report.pulled.contains(notePath) && report.pulled.contains(appPath), "\(report)")
        #expect(report.unknownRemotePaths.contains("\(laureate.slug)/divers.txt"))
        let appNow = try await api.call("GET", "/v1/documents/\(appID)")
        #expect(
            appNow.body["version"] as? Int == 2 && appNow.body["sha256"] as? String == sha(edited)
                && appNow.body["source"] as? String == "drive")
        let pulledNote = try await api.feedItem(drivePath: notePath)
        #expect(pulledNote?["sha256"] as? String == sha(note))

        // 6. Both sides change the same file: both versions are kept, the Drive's marked as a conflict.
        try await api.addVersion(to: postID, Array("Dossier post-incubation : version 2 (API)\n".utf8))
        let driveEdit = Array("Dossier post-incubation : version 2 (Drive)\n".utf8)
        _ = try await rootDAV.put(
            postPath, file: try temporaryFile(driveEdit), precondition: .replace(etag: try await strongETag(rootDAV, postPath)))
        report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(report.conflicts == [postPath], "\(report)")
        let post = try await api.call("GET", "/v1/documents/\(postID)")
        #expect(
            post.body["version"] as? Int == 3 && post.body["conflict"] as? Bool == true && post.body["sha256"] as? String == sha(driveEdit))
        #expect(try await api.call("GET", "/v1/documents/\(postID)/content?version=2").status == 200)

        // 7. A deletion on the Drive is reported and the file pushed again.
        try await rootDAV.delete(appPath)
        report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(report.repushedAfterRemoteDeletion == [appPath])
        #expect(try await rootDAV.propfind(appPath, depth: 0) != nil)

        // 8. A withdrawn document is archived on the Drive, not deleted.
        let noteID = try #require(pulledNote?["id"] as? String)
        let noteDoc = try await api.call("GET", "/v1/documents/\(noteID)")
        #expect(try await api.call("DELETE", "/v1/documents/\(noteID)", headers: [("If-Match", noteDoc.etag!)]).status == 200)
        report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(report.archived == [notePath])
        #expect(try await rootDAV.propfind(notePath, depth: 0) == nil)
        // In the archive once (on a Drive that ignores preconditions, replaced versions were moved there as well).
        let archive = try #require(try await rootDAV.list("_archive")).filter { $0.isCollection && !$0.path.hasPrefix("_archive/.") }
        var holding: [String] = []
        for folder in archive where try await rootDAV.propfind("\(folder.path)/\(notePath)", depth: 0) != nil {
            holding.append(folder.path)
        }
        #expect(holding.count == 1 && (server == "rclone" || archive.count == 1), "\(archive.map(\.path))")

        // 9. A journal lost after a crash: the next run finds both sides equal and adopts them, changing nothing.
        try FileManager.default.removeItem(at: journal)
        report = try await engine(server, root: root, journal: journal, api: api).run().only(laureate.slug)
        #expect(report.failed.isEmpty && report.conflicts.isEmpty, "\(report)")
        #expect(report.adopted.contains(appPath) && report.adopted.contains(postPath))
        let post2 = try await api.call("GET", "/v1/documents/\(postID)")
        #expect(post2.body["version"] as? Int == 3)
    }
}

@Suite("The sync engine's guards", .serialized, .enabled(if: !TestServers.all.isEmpty))
struct EngineGuardTests {
    func setUp(_ server: String) async throws -> (LiveAPI, WebDAVClient, String, (id: String, slug: String), URL) {
        let api = try #require(try await LiveAPI.fromEnvironment())
        let root = "guards-\(UUID().uuidString.prefix(8))"
        let dav = TestServers.client(server)
        try await dav.makeCollection(root)
        let rootDAV = WebDAVClient(base: dav.base.appendingPathComponent(root), http: dav.http)
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("guards-\(UUID().uuidString).sqlite")
        return (api, rootDAV, root, try await api.newLaureate(), journal)
    }

    func engine(_ api: LiveAPI, _ dav: WebDAVClient, _ journal: URL, configure: (inout SyncOptions) -> Void = { _ in }) throws -> SyncEngine
    {
        var options = SyncOptions()
        options.baseDelay = 0.01
        configure(&options)
        return SyncEngine(
            api: APIClient(base: URL(string: api.base)!, token: api.syncToken, http: HTTPClient()), drive: dav,
            journal: try Journal(path: journal.path), options: options)
    }

    @Test(arguments: TestServers.names)
    func hostileNamesSyncBothWays(_ server: String) async throws {
        let (api, dav, _, laureate, journal) = try await setUp(server)
        let names = [
            "Bilan e\u{301}te\u{301}.pdf", "devis \"final\" #2 50%.pdf", String(repeating: "é", count: 100) + ".pdf", "l'atelier ?.pdf",
        ]
        for name in names { try await api.addDocument(to: laureate.id, kind: "application", name: name, Array("%PDF-1.4 \(name)".utf8)) }
        var report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.failed.isEmpty, "\(report.failed)")
        let listed = try #require(try await dav.list("\(laureate.slug)/dossier/application")).map {
            $0.path.split(separator: "/").last.map(String.init)!
        }
        #expect(Set(listed.map(\.precomposedStringWithCanonicalMapping)) == Set(names.map(FileName.sanitised)))
        // A decomposed (NFD) name dropped on the Drive is read in NFC and pulled, not reported unknown.
        let nfd = "Note re\u{301}sume\u{301}e.txt"
        try await dav.makeCollection("\(laureate.slug)/dossier/framing_note")
        _ = try await dav.put(
            "\(laureate.slug)/dossier/framing_note/\(nfd)", file: try temporaryFile(Array("résumé".utf8)), precondition: .create)
        report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.failed.isEmpty && report.unknownRemotePaths.allSatisfy { !$0.contains("framing_note") }, "\(report)")
        #expect(report.pulled.contains("\(laureate.slug)/dossier/framing_note/\(nfd.precomposedStringWithCanonicalMapping)"))
        report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.pulled.isEmpty && report.pushed.isEmpty && report.conflicts.isEmpty, "\(report)")
    }

    /// Right after a push the rerun trusts the tags of the files it wrote, on wsgidav too, whose tags count whole seconds
    /// (new files are moved into place once the Drive's clock has passed their upload's second); and a same-size edit
    /// someone saves at once, likely in the very second the push ended, is still caught. On every Drive.
    @Test(arguments: TestServers.names)
    func theRerunAfterAPushReadsNothingBackYetCatchesAnEditSavedAtOnce(_ server: String) async throws {
        let (api, dav, _, laureate, journal) = try await setUp(server)
        var paths: [String] = []
        for index in 0..<6 {
            try await api.addDocument(to: laureate.id, kind: "application", name: "piece-\(index).txt", Array("piece \(index) v1\n".utf8))
            paths.append("\(laureate.slug)/dossier/application/piece-\(index).txt")
        }
        var report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.failed.isEmpty && Set(report.pushed) == Set(paths), "\(report)")
        let edited = Array("PIECE 0 V1\n".utf8)  // the same size as what was pushed
        _ = try await dav.put(paths[0], file: try temporaryFile(edited), precondition: .ownFile)
        report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.pulled == [paths[0]], "\(report)")
        #expect(report.readAgain.isEmpty, "\(report.readAgain)")
        #expect(report.failed.isEmpty && report.pushed.isEmpty && report.conflicts.isEmpty, "\(report)")
        // The person's edit is on the Drive still, and in the API (each said apart: once, under load on CI, the API kept
        // the old bytes though the run said it pulled; which side lost the edit tells where to look).
        let onDrive = FileManager.default.temporaryDirectory.appendingPathComponent("rerun-check-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: onDrive) }
        _ = try await dav.get(paths[0], to: onDrive)
        #expect(try digest(onDrive) == sha(edited), "the Drive's copy")
        let item = try await api.feedItem(drivePath: paths[0])
        #expect(item?["sha256"] as? String == sha(edited), "the API's copy: \(item ?? [:])")
    }

    @Test(arguments: TestServers.names)
    func unchangedFoldersAreNotListedAgainWhereTheServerTagsThem(_ server: String) async throws {
        let (api, dav, _, laureate, journal) = try await setUp(server)
        var ids: [String: String] = [:]
        for (kind, name) in [("application", "a.txt"), ("application", "b.txt"), ("post_incubation", "c.txt")] {
            ids[name] = try await api.addDocument(to: laureate.id, kind: kind, name: name, Array("version 1 of \(name)\n".utf8))
        }
        let application = "\(laureate.slug)/dossier/application"
        let postIncubation = "\(laureate.slug)/dossier/post_incubation"
        let engine = try engine(api, dav, journal)
        // Apache moves a folder's tag when a file directly inside changes; wsgidav and rclone give folders no usable tag.
        let support = await engine.driveTraits().folderTags
        #expect(support == (server == "apache" ? .direct : .none))

        var report = try await engine.run().only(laureate.slug)
        #expect(report.pushed.count == 3 && report.failed.isEmpty, "\(report)")
        // Dates have one-second steps: a folder is taken as in step once its tag was read a second after its last
        // change. The next run lists everything, checks the files it wrote in that second, and records the folders.
        try await waitPastTheSecond(of: Date())
        report = try await engine.run().only(laureate.slug)
        #expect(report.pushed.isEmpty && report.pulled.isEmpty && report.failed.isEmpty, "\(report)")
        #expect(!report.foldersSkipped.contains(application))
        report = try await engine.run()
        if support == .direct {
            #expect(
                report.foldersSkipped.contains(application) && report.foldersSkipped.contains(postIncubation), "\(report.foldersSkipped)")
        } else {
            #expect(report.foldersSkipped.isEmpty)
        }

        // Someone edits a file on the Drive, same size: its folder's tag moves, the folder is listed, the edit is caught.
        let edited = Array("version 2 of b.txt\n".utf8)
        let bPath = "\(application)/b.txt"
        _ = try await dav.put(bPath, file: try temporaryFile(edited), precondition: .replace(etag: try await strongETag(dav, bPath)))
        report = try await engine.run()
        #expect(report.only(laureate.slug).pulled == [bPath], "\(report.only(laureate.slug))")
        #expect(!report.foldersSkipped.contains(application))
        if support == .direct { #expect(report.foldersSkipped.contains(postIncubation)) }
        let b = try await api.call("GET", "/v1/documents/\(try #require(ids["b.txt"]))")
        #expect(b.body["sha256"] as? String == sha(edited) && b.body["version"] as? Int == 2)
    }

    @Test(arguments: TestServers.names)
    func aDriveFileEditedDuringARunIsNeverOverwritten(_ server: String) async throws {
        let (api, dav, _, laureate, journal) = try await setUp(server)
        let id = try await api.addDocument(to: laureate.id, kind: "application", name: "rapport.txt", Array("version 1\n".utf8))
        let path = "\(laureate.slug)/dossier/application/rapport.txt"
        var report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.pushed == [path])
        // Checked in the second it was written, the file is read once more by the next run; after that its tag is
        // trusted and a change in the API goes straight to the PUT.
        try await waitPastTheSecond(of: Date())
        report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.pushed.isEmpty && report.pulled.isEmpty && report.failed.isEmpty, "\(report)")

        // 1. The API has a new version; just as the run is about to put it on the Drive, someone edits the Drive file.
        try await api.addVersion(to: id, Array("version 2, written in the API\n".utf8))
        let personEdit = Array("version 2, written on the Drive by a person\n".utf8)
        let url = dav.url(path)
        // (Forced: this test's journal may know only this file, and the threshold has its own test.)
        report = try await engine(api, dav, journal) { options in
            options.force = true
            options.progress = DriveEditor.whenReaching(path) { try putWithCurl(personEdit, to: url) }
        }.run().only(laureate.slug)
        // The PUT is refused (412), the file read again: the person's bytes become a conflict version, nothing is lost.
        #expect(report.conflicts == [path] && report.pushed.isEmpty && report.failed.isEmpty, "\(report)")
        let fetched = FileManager.default.temporaryDirectory.appendingPathComponent("edited-\(UUID().uuidString)")
        _ = try await dav.get(path, to: fetched)
        #expect(sha(Array(try Data(contentsOf: fetched))) == sha(personEdit))
        var document = try await api.call("GET", "/v1/documents/\(id)")
        #expect(document.body["version"] as? Int == 3 && document.body["conflict"] as? Bool == true)
        #expect(document.body["sha256"] as? String == sha(personEdit))
        #expect(try await api.call("GET", "/v1/documents/\(id)/content?version=2").status == 200)

        // 2. Edited on the Drive, then edited again while the run downloads it: the download does not match the listing,
        //    the file is reported and left; the next run takes the last version.
        let firstEdit = Array("a third version from the Drive\n".utf8)
        let secondEdit = Array("a fourth, longer version from the Drive\n".utf8)
        try putWithCurl(firstEdit, to: url)
        report = try await engine(api, dav, journal) { options in
            options.force = true
            options.progress = DriveEditor.whenReaching(path) { try putWithCurl(secondEdit, to: url) }
        }.run().only(laureate.slug)
        #expect(report.failed[path] != nil && report.pulled.isEmpty, "\(report)")
        report = try await engine(api, dav, journal) { $0.force = true }.run().only(laureate.slug)
        #expect(report.pulled == [path] && report.failed.isEmpty, "\(report)")
        document = try await api.call("GET", "/v1/documents/\(id)")
        #expect(document.body["sha256"] as? String == sha(secondEdit) && document.body["version"] as? Int == 4)
        // 3. Edited on the Drive; just as the run pulls it into the API, the team adds a version there: the API refuses
        //     the stale upload (412), both sides are read again, and both versions are kept, in the same run.
        try await waitPastTheSecond(of: Date())
        _ = try await engine(api, dav, journal) { $0.force = true }.run()
        let driveEdit = Array("edited on the Drive before the run\n".utf8)
        let teamEdit = Array("a version the team adds while the run pulls\n".utf8)
        try putWithCurl(driveEdit, to: url)
        report = try await engine(api, dav, journal) { options in
            options.force = true
            options.progress = DriveEditor.whenReaching(path) { try addVersionWithCurl(teamEdit, api: api, document: id) }
        }.run().only(laureate.slug)
        #expect(report.conflicts == [path] && report.failed.isEmpty, "\(report)")
        document = try await api.call("GET", "/v1/documents/\(id)")
        #expect(document.body["sha256"] as? String == sha(driveEdit) && document.body["conflict"] as? Bool == true)
        let kept = try await api.call("GET", "/v1/documents/\(id)/content?version=\((document.body["version"] as? Int ?? 1) - 1)")
        #expect(kept.status == 200)
        _ = try await engine(api, dav, journal) { $0.force = true }.run()
    }

    @Test(arguments: TestServers.names)
    func aDirectionMovesFilesOneWayOnly(_ server: String) async throws {
        let (api, dav, _, laureate, journal) = try await setUp(server)
        let id = try await api.addDocument(to: laureate.id, kind: "application", name: "a.txt", Array("version 1\n".utf8))
        let path = "\(laureate.slug)/dossier/application/a.txt"
        var report = try await engine(api, dav, journal) { $0.direction = .push }.run().only(laureate.slug)
        #expect(report.pushed == [path])

        // The API gets a new version and someone drops a file on the Drive.
        let second = Array("version 2 from the API\n".utf8)
        try await api.addVersion(to: id, second)
        let notePath = "\(laureate.slug)/dossier/framing_note/note.txt"
        try await dav.makeCollection("\(laureate.slug)/dossier/framing_note")
        _ = try await dav.put(notePath, file: try temporaryFile(Array("déposé sur le Drive\n".utf8)), precondition: .create)

        // Pull only: the Drive's file comes in, the API's new version stays where it is (forced: this journal knows
        // one file, and the threshold has its own test).
        report = try await engine(api, dav, journal) { ($0.direction, $0.force) = (.pull, true) }.run().only(laureate.slug)
        #expect(report.pulled == [notePath] && report.pushed.isEmpty && report.failed.isEmpty, "\(report)")
        let fetched = FileManager.default.temporaryDirectory.appendingPathComponent("direction-\(UUID().uuidString)")
        _ = try await dav.get(path, to: fetched)
        #expect(sha(Array(try Data(contentsOf: fetched))) == sha(Array("version 1\n".utf8)))

        // Push only: now the new version goes up, and nothing comes down.
        report = try await engine(api, dav, journal) { ($0.direction, $0.force) = (.push, true) }.run().only(laureate.slug)
        #expect(report.pushed == [path] && report.pulled.isEmpty && report.failed.isEmpty, "\(report)")
        _ = try await dav.get(path, to: fetched)
        #expect(sha(Array(try Data(contentsOf: fetched))) == sha(second))
    }

    @Test(arguments: TestServers.names)
    func aDryRunChangesNothingAndTheThresholdStopsAMassChange(_ server: String) async throws {
        let (api, dav, _, laureate, journal) = try await setUp(server)
        for index in 0..<6 {
            try await api.addDocument(to: laureate.id, kind: "application", name: "d\(index).pdf", Array("%PDF-1.4 \(index)".utf8))
        }
        let dry = try await engine(api, dav, journal) { $0.dryRun = true }.run()
        #expect(dry.dryRun && dry.pushed.contains("\(laureate.slug)/dossier/application/d0.pdf"))
        #expect(try await dav.list(laureate.slug) == nil)
        var report = try await engine(api, dav, journal).run().only(laureate.slug)
        #expect(report.failed.isEmpty && report.safetyStop == nil)
        // Every file of this laureate deleted on the Drive: pushing them all again is more than half of what is known
        // only if they are most of it, so the threshold is set to what this test knows.
        let known = try Journal(path: journal.path).entries().count
        for index in 0..<6 { try await dav.delete("\(laureate.slug)/dossier/application/d\(index).pdf") }
        report = try await engine(api, dav, journal) { $0.maxChanges = 5 }.run()
        #expect(report.safetyStop != nil && report.exitCode == SyncExit.safetyStop, "\(report), \(known) known")
        #expect(try await dav.list("\(laureate.slug)/dossier/application")?.isEmpty == true)
        report = try await engine(api, dav, journal) { $0.force = true }.run().only(laureate.slug)
        #expect(report.repushedAfterRemoteDeletion.count == 6 && report.failed.isEmpty, "\(report)")
    }
}

/// A person editing the Drive at a chosen moment of a run: once, when the run's progress reaches a path.
final class DriveEditor: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    static func whenReaching(_ path: String, edit: @escaping @Sendable () throws -> Void) -> @Sendable (String) -> Void {
        let editor = DriveEditor()
        return { line in
            guard line.hasSuffix("] " + path) else { return }
            editor.lock.lock()
            defer { editor.lock.unlock() }
            if !editor.done {
                editor.done = true
                try? edit()
            }
        }
    }
}

/// A version added through the API by another client (curl), as the team would, at a moment a test chooses.
func addVersionWithCurl(_ bytes: [UInt8], api: LiveAPI, document: String) throws {
    let file = try temporaryFile(bytes)
    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-H", "Authorization: Bearer \(api.admin)"] + arguments
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
    let headers = try curl(["-o", "/dev/null", "-D", "-", api.base + "/v1/documents/\(document)"])
    let etag = headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }.map {
        $0.dropFirst(5).trimmingCharacters(in: .whitespaces)
    }
    let status = try curl([
        "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "If-Match: \(etag ?? "")", "-H",
        "Content-Type: application/octet-stream",
        "--data-binary", "@\(file.path)", api.base + "/v1/documents/\(document)/versions",
    ])
    #expect(status == "201", "curl POST a version: \(status)")
}

/// A plain PUT by another client (curl), as a person's Drive client would write.
func putWithCurl(_ bytes: [UInt8], to url: String) throws {
    let file = try temporaryFile(bytes)
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = ["-sf", "-o", "/dev/null", "-T", file.path, url]
    try curl.run()
    curl.waitUntilExit()
    #expect(curl.terminationStatus == 0, "curl -T \(url)")
}

/// Waits until the clock is past the second `date` falls in (the Drive's dates count whole seconds).
func waitPastTheSecond(of date: Date) async throws {
    let next = (date.timeIntervalSince1970.rounded(.down) + 1)
    while Date().timeIntervalSince1970 < next { try await Task.sleep(for: .milliseconds(50)) }
}

extension SyncReport {
    /// The report restricted to one laureate's folder: other suites add documents to the same live API meanwhile.
    func only(_ slug: String) -> SyncReport {
        var report = self
        let mine = { (path: String) in path.hasPrefix(slug + "/") }
        report.pushed = pushed.filter(mine)
        report.pulled = pulled.filter(mine)
        report.conflicts = conflicts.filter(mine)
        report.archived = archived.filter(mine)
        report.repushedAfterRemoteDeletion = repushedAfterRemoteDeletion.filter(mine)
        report.adopted = adopted.filter(mine)
        report.readAgain = readAgain.filter(mine)
        report.unknownRemotePaths = unknownRemotePaths.filter(mine)
        report.failed = failed.filter { mine($0.key) }
        report.nameTwins = nameTwins.filter { mine($0.path) }
        report.keptAside = keptAside.filter { mine($0.key) }
        return report
    }
}
