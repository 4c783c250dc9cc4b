import Foundation
import Synchronization
import Testing

@testable import Sync

/// The engine through `scripts/fault-proxy.py` in front of wsgidav: 503, 429, 423, dropped connections and bodies
/// stalled mid-way, on a fixed share of the requests.
@Suite("Faults", .serialized, .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_FAULTY_WEBDAV"] != nil))
struct FaultTests {
    @Test func retriesWithBackoffCarryARunThroughAnUnreliableDrive() async throws {
        let api = try #require(try await LiveAPI.fromEnvironment())
        let faulty = URL(string: ProcessInfo.processInfo.environment["MDP_TEST_FAULTY_WEBDAV"]!)!
        let root = "faults-\(UUID().uuidString.prefix(8))"
        let direct = TestServers.client("wsgidav")
        try await direct.makeCollection(root)
        let laureate = try await api.newLaureate()
        var generator = SystemRandomNumberGenerator()
        for index in 0..<10 {
            let bytes = Array("%PDF-1.4\n".utf8) + (0..<(20_000 + index)).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
            try await api.addDocument(to: laureate.id, kind: "application", name: "f\(index).pdf", bytes)
        }
        let rootDirect = WebDAVClient(base: direct.base.appendingPathComponent(root), http: direct.http)
        for folder in [laureate.slug, "\(laureate.slug)/dossier", "\(laureate.slug)/dossier/framing_note"] {
            try await rootDirect.makeCollection(folder)
        }
        for index in 0..<4 {
            _ = try await rootDirect.put(
                "\(laureate.slug)/dossier/framing_note/n\(index).txt", file: try temporaryFile(Array("note \(index)\n".utf8)),
                precondition: .create)
        }

        var http = HTTPClientOptions()
        http.lowSpeedTime = 2
        var options = SyncOptions()
        options.attempts = 10
        options.baseDelay = 0.01
        options.force = true
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString).sqlite")
        let engine = SyncEngine(
            api: APIClient(base: URL(string: api.base)!, token: api.syncToken, http: HTTPClient()),
            drive: WebDAVClient(base: faulty.appendingPathComponent(root), http: HTTPClient(options: http)),
            journal: try Journal(path: journal.path),
            options: options)
        var report = try await engine.run()
        if !report.failed.isEmpty { report = try await engine.run() }  // a file that kept failing is reported; the next run takes it
        #expect(report.failed.isEmpty, "\(report.failed)")

        let documents = try await api.feedItems().filter { $0["laureate_id"] as? String == laureate.id }
        #expect(documents.count == 14)
        for document in documents {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("faults-check-\(UUID().uuidString)")
            _ = try await rootDirect.get(document["drive_path"] as! String, to: file)
            #expect(try digest(file) == document["sha256"] as? String)
        }
    }
}

/// The engine through the mortal proxy of `scripts/with-test-servers.sh`, which a test kills in the middle of a run.
@Suite("A Drive that goes away", .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_MORTAL_WEBDAV"] != nil))
struct DriveGoneTests {
    /// After `Breaker.limit` files in a row found nothing answering, the files left are not tried: the run ends at once
    /// (exit 1) instead of minutes of retries, one file after another. Nothing half-done is recorded, and the next run,
    /// the Drive back, finishes the work with nothing lost nor doubled.
    @Test func aDriveGoneMidRunEndsTheRunAtOnceAndTheNextRunFinishesTheWork() async throws {
        let guards = EngineGuardTests()
        let (api, rootDirect, root, laureate, journal) = try await guards.setUp("wsgidav")
        let mortal = URL(string: ProcessInfo.processInfo.environment["MDP_TEST_MORTAL_WEBDAV"]!)!
        let count = 120
        for index in 0..<count {
            try await api.addDocument(to: laureate.id, kind: "application", name: "m\(index).txt", Array("mortel \(index)\n".utf8))
        }
        let started = Mutex(0)
        let progress: @Sendable (String) -> Void = { line in
            // The tenth file under way: the Drive goes away (its proxy drops every connection and stops listening).
            guard line.hasPrefix("["),
                started.withLock({
                    $0 += 1; return $0
                }) == 10
            else { return }
            Task.detached { _ = try? await HTTPClient().perform(HTTPRequest(method: "GET", url: mortal.absoluteString + "/__die")) }
        }
        let gone = try guards.engine(api, WebDAVClient(base: mortal.appendingPathComponent(root), http: HTTPClient()), journal) {
            $0.baseDelay = 0.2  // as shipped: five attempts take three seconds per file
            $0.progress = progress
        }
        let clock = ContinuousClock.now
        let cut = try await gone.run()
        let elapsed = clock.duration(to: .now)
        let notTried = cut.failed.values.filter { $0.hasPrefix("not tried") }
        // Tried and failed: the files that opened the breaker and those under way with them; the others made no
        // request once it was open (files waiting for the Drive's clock included).
        let tried = cut.failed.count - notTried.count
        #expect(tried <= Breaker.limit + 2 * gone.options.parallel, "\(tried) files tried after the Drive went away")
        #expect(cut.exitCode == SyncExit.someFilesFailed)
        #expect(notTried.count > count / 2, "\(cut.failed.count) failed, \(notTried.count) not tried")
        // Without the breaker, each file left would take its five attempts: over a minute for a hundred files.
        #expect(elapsed < .seconds(30), "\(elapsed)")

        // The Drive back (wsgidav itself, the same folder): the next run finishes the work.
        let report = try await guards.engine(api, rootDirect, journal).run()
        #expect(report.failed.isEmpty && report.conflicts.isEmpty, "\(report.failed) \(report.conflicts)")
        let documents = try await api.feedItems().filter { $0["laureate_id"] as? String == laureate.id }
        #expect(documents.count == count && documents.allSatisfy { $0["conflict"] as? Bool == false && $0["version"] as? Int == 1 })
        let listed = try await rootDirect.list("\(laureate.slug)/dossier/application") ?? []
        #expect(listed.count == count, "\(listed.count) files on the Drive")
        // The uploads the cut run left waiting are gone: the next run of the same journal removed them.
        #expect(try await rootDirect.list("_archive/.mdp-uploads")?.isEmpty ?? true)
        for document in documents {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("gone-check-\(UUID().uuidString)")
            _ = try await rootDirect.get(document["drive_path"] as! String, to: file)
            #expect(try digest(file) == document["sha256"] as? String)
        }
    }
}

@Suite("Credentials", .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_API"] != nil))
struct CredentialTests {
    @Test func badCredentialsStopTheRunBeforeAnythingMoves() async throws {
        let base = URL(string: ProcessInfo.processInfo.environment["MDP_TEST_API"]!)!
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString).sqlite")
        let engine = SyncEngine(
            api: APIClient(base: base, token: "mdp_not-a-token", http: HTTPClient()),
            drive: WebDAVClient(base: URL(string: "http://127.0.0.1:1/")!, http: HTTPClient()), journal: try Journal(path: journal.path),
            options: SyncOptions())
        await #expect(throws: APIError.unauthorized) { try await engine.run() }
    }
}
