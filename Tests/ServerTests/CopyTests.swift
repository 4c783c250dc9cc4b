import ArgumentParser
import Domain
import Foundation
import Testing

@testable import Server
@testable import Storage

/// `mdp admin copy`: a whole SQLite installation into an empty PostgreSQL database, verified there. (Runs where the
/// suite runs on PostgreSQL, `make test`'s second pass.)
@Suite(
    "Copying an installation to PostgreSQL",
    .enabled(if: ProcessInfo.processInfo.environment["MDP_TEST_DATABASE_URL"]?.isEmpty == false))
struct CopyTests {
    static let clock = Date(timeIntervalSince1970: 1_710_493_200)  // 2024-03-15, inside the support window
    static let options = AppDatabase.Options(clock: { CopyTests.clock }, bcryptCost: 4)

    /// The demo installation in a fresh data folder, and its logins.
    static func demoInstallation() async throws -> (source: AppDatabase, folder: String, admin: (email: String, password: String)) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString)").path
        let source = try AppDatabase.file(inDirectory: folder, options: options)
        var demo = DemoData()
        let logins = try await demo.load(
            into: source, settings: .manufacturesDeProximite, passwords: ("admin password 1", "expert password 1", "laureate password"))
        return (source, folder, logins.admin)
    }

    @Test func theDemoInstallationArrivesWholeAndVerified() async throws {
        let (source, folder, admin) = try await Self.demoInstallation()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = try AppDatabase.throwaway(options: Self.options)
        let report = try await source.copy(to: target)
        let events = try source.events(after: 0, limit: 100_000)
        #expect(report.events == events.count && report.rows["event"] == events.count)
        #expect(report.blobs > 0 && report.rows["document_version"] ?? 0 >= report.blobs)
        #expect((report.rows["account"] ?? 0) > 300 && report.rows["laureate"] == 100)

        // The copy works as the installation did: the same login, the same directory, the same bytes.
        let account = try target.login(email: admin.email, password: admin.password, address: "test").account
        #expect(try target.directoryIndex().count == source.directoryIndex().count)
        let documents = try source.documents(for: account, updatedAfter: 0, limit: 1000).documents
        let document = try #require(documents.first)
        var before: [UInt8] = []
        for try await piece in try await source.blobs.contents(of: document.sha256, range: 0..<document.size) { before += piece }
        var after: [UInt8] = []
        for try await piece in try await target.blobs.contents(of: document.sha256, range: 0..<document.size) { after += piece }
        #expect(after == before && after.count == document.size)
        #expect(try target.documents(for: account, updatedAfter: 0, limit: 1000).documents.map(\.id) == documents.map(\.id))
        // New rows after the copy carry on the source's numbering (revisions, references, audit chain).
        let mission = try target.missions(for: account, updatedAfter: 0, limit: 1000).missions
        #expect(mission.count == (try source.missions(for: account, updatedAfter: 0, limit: 1000).missions.count))
        _ = try target.createAccount(email: "apres-copie@ftl.fr", password: nil, role: .admin, displayName: "Après la copie")
        #expect(try target.verifyAuditChain() == .intact(events: events.count + 1))

        // A second copy into a database that holds data is refused.
        await #expect(throws: CopyError.targetNotEmpty) { try await source.copy(to: target) }
    }

    @Test func aMissingFileStopsTheCopyBeforeAnyRow() async throws {
        let (source, folder, _) = try await Self.demoInstallation()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let blobs = URL(fileURLWithPath: folder).appendingPathComponent("blobs")
        let shard = try #require(try FileManager.default.contentsOfDirectory(atPath: blobs.path).first { $0 != "tmp" })
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: blobs.appendingPathComponent(shard).path).first)
        try FileManager.default.removeItem(at: blobs.appendingPathComponent(shard).appendingPathComponent(file))
        let target = try AppDatabase.throwaway(options: Self.options)
        await #expect(throws: CopyError.blobMissing(file)) { try await source.copy(to: target) }
        #expect(try target.isEmpty())
    }
}

extension CopyTests {
    @Test func aSourceWhoseChainIsBrokenIsNotCopied() async throws {
        let (source, folder, _) = try await Self.demoInstallation()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try source.engine.write { db in
            try db.execute(sql: "DROP TRIGGER event_is_append_only_update")
            try db.execute(sql: "UPDATE event SET subject_id = 'quelqu''un' WHERE seq = 7")
        }
        let target = try AppDatabase.throwaway(options: Self.options)
        await #expect(throws: CopyError.sourceChainBroken(seq: 7, reason: "its content does not match its hash")) {
            try await source.copy(to: target)
        }
        #expect(try target.isEmpty())
    }
}

extension CopyTests {
    /// A source a server still writes to would change under the copy (the outside tester's copy of a running
    /// installation failed only after loading, leaving the target filled): the command refuses it before reading a row.
    @Test func aSourceInUseByARunningServerIsRefusedBeforeAnyRow() async throws {
        let (_, folder, _) = try await Self.demoInstallation()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let serving = try InstallationLock.acquire(dataDirectory: folder)
        let target = "postgres://127.0.0.1:1/nothing-is-contacted"
        let command = try Copy.parse(["--from", folder, "--to", target])
        await #expect(throws: ValidationError.self) { try await command.run() }
        withExtendedLifetime(serving) {}
    }
}
