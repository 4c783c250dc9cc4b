import Crypto
import Foundation
import Testing

@testable import Sync

/// `mdp sync once` killed with SIGKILL at random moments, then run to the end: every file on both sides intact.
@Suite("Crashes", .serialized, .enabled(if: !TestServers.all.isEmpty && ProcessInfo.processInfo.environment["MDP_TEST_BINARY"] != nil))
struct CrashTests {
    @Test(arguments: TestServers.names)
    func aRunKilledAnywhereConvergesOnTheNextWithEveryFileIntact(_ server: String) async throws {
        let api = try #require(try await LiveAPI.fromEnvironment())
        let binary = ProcessInfo.processInfo.environment["MDP_TEST_BINARY"]!
        let root = "crash-\(UUID().uuidString.prefix(8))"
        let dav = TestServers.client(server)
        try await dav.makeCollection(root)
        let rootDAV = WebDAVClient(base: dav.base.appendingPathComponent(root), http: dav.http)
        let laureate = try await api.newLaureate()
        var generator = SystemRandomNumberGenerator()
        // Twelve documents in the store, six files dropped on the Drive, some large enough to be cut mid-transfer.
        for index in 0..<12 {
            let size = index % 4 == 0 ? 3 << 20 : 2_000 + index
            let bytes = Array("%PDF-1.4\n".utf8) + (0..<size).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
            let kind = ["application", "post_incubation"][index % 2]
            try await api.addDocument(to: laureate.id, kind: kind, name: "doc-\(index).pdf", bytes)
        }
        for folder in [laureate.slug, "\(laureate.slug)/dossier", "\(laureate.slug)/dossier/framing_note"] {
            try await rootDAV.makeCollection(folder)
        }
        for index in 0..<6 {
            let bytes =
                Array("Note \(index) ".utf8)
                + (0..<(index == 0 ? 2 << 20 : 500)).map { _ in UInt8.random(in: 0x61...0x7A, using: &generator) }
            _ = try await rootDAV.put(
                "\(laureate.slug)/dossier/framing_note/note-\(index).txt", file: try temporaryFile(bytes), precondition: .create)
        }

        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("crash-journal-\(UUID().uuidString).sqlite").path
        let environment = ProcessInfo.processInfo.environment.merging([
            "SYNC_API_URL": api.base, "SYNC_API_TOKEN_FILE": ProcessInfo.processInfo.environment["MDP_TEST_SYNC_TOKEN_FILE"]!,
            "SYNC_WEBDAV_URL": rootDAV.base.absoluteString, "SYNC_JOURNAL": journal,
        ]) { $1 }
        // What the last run said, for the failure's message.
        let said = FileManager.default.temporaryDirectory.appendingPathComponent("crash-said-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: said) }
        func run(killAfter milliseconds: Int?) async throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["sync", "once", "--force"]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            _ = FileManager.default.createFile(atPath: said.path, contents: nil)
            let saying = try FileHandle(forWritingTo: said)
            defer { try? saying.close() }
            process.standardError = saying
            try process.run()
            if let milliseconds {
                try await Task.sleep(for: .milliseconds(milliseconds))
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
        for _ in 0..<20 {
            _ = try await run(killAfter: Int.random(in: 20...400, using: &generator))
        }
        var status = try await run(killAfter: nil)
        if status != 0 { status = try await run(killAfter: nil) }  // a file written in the very last second is verified once more
        #expect(status == 0, "\(String(decoding: (try? Data(contentsOf: said)) ?? Data(), as: UTF8.self).suffix(2_000))")

        // Both sides hold the same files, byte for byte, and nothing was doubled.
        let documents = try await api.feedItems().filter { $0["laureate_id"] as? String == laureate.id }
        let paths = documents.compactMap { $0["drive_path"] as? String }
        #expect(paths.count == 18 && Set(paths).count == 18, "\(paths)")
        #expect(documents.allSatisfy { $0["conflict"] as? Bool == false })
        for document in documents {
            let path = document["drive_path"] as! String
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("crash-check-\(UUID().uuidString)")
            _ = try await rootDAV.get(path, to: file)
            #expect(try digest(file) == document["sha256"] as? String, "\(path)")
        }
    }
}
