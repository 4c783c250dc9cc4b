import Crypto
import Foundation
import Testing

@testable import Sync

/// The real servers `make test` starts (scripts/webdav-servers.sh): `MDP_TEST_WEBDAV=name=url,name=url`.
enum TestServers {
    static let all: [(name: String, url: URL)] = (ProcessInfo.processInfo.environment["MDP_TEST_WEBDAV"] ?? "")
        .split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let url = URL(string: String(parts[1])) else { return nil }
            return (String(parts[0]), url)
        }
    static var names: [String] { all.map(\.name) }

    static func client(_ name: String, maxParallel: Int = 4) -> WebDAVClient {
        var options = HTTPClientOptions()
        options.maxParallel = maxParallel
        return WebDAVClient(base: all.first { $0.name == name }!.url, http: HTTPClient(options: options))
    }
}

func temporaryFile(_ bytes: [UInt8]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mdp-sync-test-\(UUID().uuidString)")
    try Data(bytes).write(to: url)
    return url
}

/// The strong tag of a file, polling with a deadline: Apache keeps a tag weak while the file is under a second old.
func strongETag(_ dav: WebDAVClient, _ path: String) async throws -> String {
    let deadline = Date().addingTimeInterval(5)
    while true {
        let entry = try #require(try await dav.propfind(path, depth: 0)?.first)
        if let etag = entry.etag, !entry.etagIsWeak { return etag }
        guard Date() < deadline else { throw WebDAVError.malformedResponse("no strong ETag for \(path)") }
        try await Task.sleep(for: .milliseconds(100))
    }
}

func digest(_ url: URL) throws -> String {
    SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
}

@Suite("The test servers")
struct TestServersConfigured {
    @Test func makeTestStartsTheThreeWebDAVServers() {
        if ProcessInfo.processInfo.environment["MDP_REQUIRE_WEBDAV"] == "1" {
            #expect(Set(TestServers.names) == ["wsgidav", "apache", "rclone"], "scripts/webdav-servers.sh did not hand over the servers")
        }
    }
}

@Suite("WebDAV against real servers", .enabled(if: !TestServers.all.isEmpty))
struct WebDAVServerTests {
    @Test(arguments: TestServers.names)
    func copyMoveAndProppatchTravelAndNeverOverwrite(_ server: String) async throws {
        let dav = TestServers.client(server)
        let folder = "methods-\(UUID().uuidString.prefix(8))"
        try await dav.makeCollection(folder)
        _ = try await dav.put("\(folder)/a.txt", file: try temporaryFile(Array("original\n".utf8)), precondition: .create)
        try await dav.copy("\(folder)/a.txt", to: "\(folder)/b.txt")
        await #expect(throws: WebDAVError.preconditionFailed) { try await dav.copy("\(folder)/a.txt", to: "\(folder)/b.txt") }
        try await dav.move("\(folder)/b.txt", to: "\(folder)/c.txt")
        await #expect(throws: WebDAVError.preconditionFailed) { try await dav.move("\(folder)/c.txt", to: "\(folder)/a.txt") }
        let names = try #require(try await dav.list(folder)).compactMap { $0.path.split(separator: "/").last.map(String.init) }
        #expect(Set(names) == ["a.txt", "c.txt"])
        let copied = FileManager.default.temporaryDirectory.appendingPathComponent("copied-\(UUID().uuidString)")
        _ = try await dav.get("\(folder)/c.txt", to: copied)
        #expect(try Data(contentsOf: copied) == Data("original\n".utf8))

        // Any method travels through the same client: a PROPPATCH gets its multi-status answer.
        let update = """
            <?xml version="1.0" encoding="utf-8"?>
            <d:propertyupdate xmlns:d="DAV:" xmlns:m="urn:mdp"><d:set><d:prop><m:origin>drive</m:origin></d:prop></d:set></d:propertyupdate>
            """
        let response = try await dav.http.perform(
            HTTPRequest(
                method: "PROPPATCH", url: dav.url("\(folder)/a.txt"), headers: [("Content-Type", "application/xml; charset=utf-8")],
                body: .data(Data(update.utf8))))
        #expect(response.status == 207 && String(decoding: response.body, as: UTF8.self).contains("origin"))
    }

    /// What each server does where WebDAV leaves it free, as the engine's probe finds it (the engine relies on nothing
    /// it has not probed): the expectations name the three servers `make test` runs.
    @Test(arguments: TestServers.names)
    func theProbeFindsWhatEachServerReallyDoes(_ server: String) async throws {
        let dav = TestServers.client(server)
        let root = "probe-\(UUID().uuidString.prefix(8))"
        try await dav.makeCollection(root)
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).sqlite")
        let engine = SyncEngine(
            api: APIClient(base: URL(string: "http://127.0.0.1:1/")!, token: "unused", http: HTTPClient()),
            drive: WebDAVClient(base: dav.base.appendingPathComponent(root), http: dav.http), journal: try Journal(path: journal.path),
            options: SyncOptions())
        let traits = try await engine.probeDrive()
        let expected: [String: DriveTraits] = [
            "apache": DriveTraits(
                folderTags: .direct, honoursPreconditions: true, refusesMoveOverwrite: true, movesPlainNames: true, fineFileTags: true,
                listsWholeTree: false),
            "wsgidav": DriveTraits(
                folderTags: .none, honoursPreconditions: true, refusesMoveOverwrite: true, movesPlainNames: true, fineFileTags: false,
                listsWholeTree: true),
            "rclone": DriveTraits(
                folderTags: .none, honoursPreconditions: false, refusesMoveOverwrite: true, movesPlainNames: true, fineFileTags: true,
                listsWholeTree: true),
        ]
        #expect(traits == expected[server], "\(traits.summary)")
        // The probe leaves nothing behind but the archive folder.
        #expect(try await dav.list("\(root)/_archive")?.isEmpty == true)
    }

    @Test(arguments: TestServers.names)
    func conditionalPutsNeverOverwriteBlindlyWhereTheServerHonoursThem(_ server: String) async throws {
        let dav = TestServers.client(server)
        let folder = "cond-\(UUID().uuidString.prefix(8))"
        try await dav.makeCollection(folder)
        try await dav.makeCollection(folder)  // a second MKCOL is fine
        let first = try temporaryFile(Array("version one\n".utf8))
        let second = try temporaryFile(Array("version two\n".utf8))  // same size: the edit must still be seen
        let path = "\(folder)/note.txt"
        _ = try #require(try await dav.put(path, file: first, precondition: .create))
        if server == "rclone" {
            // rclone serve webdav answers 201 and overwrites: why the engine probes, and writes there by MOVE instead.
            _ = try await dav.put(path, file: second, precondition: .create)
            let other = "\(folder)/other.txt"
            _ = try await dav.put(other, file: first, precondition: .create)
            await #expect(throws: WebDAVError.preconditionFailed) { try await dav.move(other, to: path) }
            _ = try await dav.put(path, file: second, precondition: .replace(etag: try await strongETag(dav, path)))
            return
        }
        await #expect(throws: WebDAVError.preconditionFailed) { try await dav.put(path, file: second, precondition: .create) }
        await #expect(throws: WebDAVError.preconditionFailed) {
            try await dav.put(path, file: second, precondition: .replace(etag: "not-it"))
        }
        // A same-size edit within the same second may keep wsgidav's tag (inode-mtime-size): the engine must compare
        // content digests too, which is why its journal keeps the SHA-256 of what it pushed.
        let created = try await strongETag(dav, path)
        let replaced = try #require(try await dav.put(path, file: second, precondition: .replace(etag: created)))
        let listed = try #require(try await dav.list(folder))
        #expect(listed.map(\.path) == [path] && listed[0].length == 12 && listed[0].lastModified != nil)
        #expect(
            WebDAVClient.normalizedETag(listed[0].etag ?? "").dropFirst(listed[0].etagIsWeak ? 2 : 0)
                == replaced.dropFirst(replaced.hasPrefix("W/") ? 2 : 0))
        let downloaded = FileManager.default.temporaryDirectory.appendingPathComponent("mdp-get-\(UUID().uuidString)")
        _ = try await dav.get(path, to: downloaded)
        #expect(try digest(downloaded) == (try digest(second)))
        try await dav.delete(path, ifMatch: try await strongETag(dav, path))
        #expect(try await dav.list(folder)?.isEmpty == true)
        #expect(try await dav.propfind("\(folder)/gone.txt", depth: 0) == nil)
    }

    static let hostile = [
        "Bilan été.pdf", "Bilan e\u{301}te\u{301} NFD.pdf", "devis \"final\" l'atelier.odt", "50% #2 ?.csv", "espaces  doubles .txt",
        String(repeating: "a", count: 196) + ".pdf", "🧵 fil.png",
    ]

    @Test(arguments: TestServers.names)
    func hostileNamesGoAndComeBackUnchanged(_ server: String) async throws {
        let dav = TestServers.client(server)
        let folder = "names-\(UUID().uuidString.prefix(8))"
        try await dav.makeCollection(folder)
        let file = try temporaryFile(Array("x".utf8))
        for name in Self.hostile {
            _ = try await dav.put("\(folder)/\(name)", file: file, precondition: .create)
        }
        let listed = Set(try #require(try await dav.list(folder)).map { $0.path.split(separator: "/").last.map(String.init) ?? "" })
        // Servers keep bytes as sent; compare in NFC as the Domain's file names are.
        #expect(Set(listed.map(\.precomposedStringWithCanonicalMapping)) == Set(Self.hostile.map(\.precomposedStringWithCanonicalMapping)))
    }

    @Test(arguments: TestServers.names)
    func parallelTransfersAreBoundedAndAllComplete(_ server: String) async throws {
        let dav = TestServers.client(server, maxParallel: 3)
        let folder = "par-\(UUID().uuidString.prefix(8))"
        try await dav.makeCollection(folder)
        let payload = try temporaryFile(Array(repeating: 0x41, count: 200_000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                group.addTask { _ = try await dav.put("\(folder)/f\(index).bin", file: payload, precondition: .create) }
            }
            try await group.waitForAll()
        }
        let listed = try #require(try await dav.list(folder))
        #expect(listed.count == 12 && listed.allSatisfy { $0.length == 200_000 })
    }

    @Test(arguments: TestServers.names)
    func aLargeFileStreamsBothWaysIntact(_ server: String) async throws {
        let dav = TestServers.client(server)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(8 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let source = try temporaryFile(bytes)
        let path = "big-\(UUID().uuidString.prefix(8)).bin"
        _ = try await dav.put(path, file: source, precondition: .create)
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("mdp-big-\(UUID().uuidString)")
        let response = try await dav.get(path, to: target)
        #expect(response.bodyBytes == bytes.count && response.body.isEmpty)
        #expect(try digest(target) == (try digest(source)))
    }

    @Test func aRefusedConnectionIsATransientTransportError() async throws {
        let dav = WebDAVClient(base: URL(string: "http://127.0.0.1:1/")!, http: HTTPClient())
        do {
            _ = try await dav.propfind("", depth: 0)
            Issue.record("a closed port answered")
        } catch let error as TransportError {
            #expect(error.isTransient)
        }
    }
}
