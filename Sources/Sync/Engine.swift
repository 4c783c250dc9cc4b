import Crypto
import Domain
import Foundation

/// What a run may do.
public struct SyncOptions: Sendable {
    public enum Direction: String, Sendable, CaseIterable {
        case push, pull, both
    }

    public var direction: Direction = .both
    public var dryRun = false
    /// Run even past the safety threshold.
    public var force = false
    /// A run that would change more than this share of the known files, or more than `maxChanges`, stops.
    public var maxChangeRatio = 0.5
    public var maxChanges = 100
    /// Attempts for a transient failure (timeouts, resets, 5xx, 423, 429), with exponential backoff and jitter.
    public var attempts = 5
    public var baseDelay: TimeInterval = 0.2
    public var archiveFolder = "_archive"
    /// Where files are downloaded before they are checked and handed on.
    public var scratch: URL = FileManager.default.temporaryDirectory
    public var progress: (@Sendable (String) -> Void)?

    public init() {}
}

/// What a run did, for the summary and the exit code.
public struct SyncReport: Sendable, Codable, Equatable {
    public var pushed: [String] = []
    public var pulled: [String] = []
    public var conflicts: [String] = []
    public var archived: [String] = []
    public var repushedAfterRemoteDeletion: [String] = []
    public var adopted: [String] = []
    public var unknownRemotePaths: [String] = []
    public var failed: [String: String] = [:]
    public var safetyStop: String?
    public var dryRun = false

    public var exitCode: Int32 { safetyStop != nil ? SyncExit.safetyStop : (failed.isEmpty ? SyncExit.ok : SyncExit.someFilesFailed) }
}

/// The documented exit codes of `mdp sync`.
public enum SyncExit {
    public static let ok: Int32 = 0
    public static let someFilesFailed: Int32 = 1
    public static let configurationError: Int32 = 2
    public static let safetyStop: Int32 = 3
}

/// One decision for one path, from the API side, the Drive side and the journal.
enum Decision: Equatable {
    case none
    /// Up to the Drive: to a new path, or over the listed remote file (at its own, possibly non-NFC, path).
    case push(FeedDocument, replacing: RemoteEntry?)
    case repush(FeedDocument)
    case pull(FeedDocument?, RemoteEntry)
    /// Both sides changed since the last sync: compare contents, and keep both when they differ.
    case reconcile(FeedDocument, RemoteEntry)
    /// Nothing seems to have moved on the Drive, but the last check was too close to the file's last write to
    /// trust its tag: read the bytes (then push, pull or reconcile as they say).
    case verify(FeedDocument?, RemoteEntry, JournalEntry, apiChanged: Bool)
    case archive(RemoteEntry)
    case forget
    case unknown(String)

    var changesExisting: Bool {
        switch self {
        case .push(_, replacing: .some), .archive, .reconcile, .repush: true
        case .pull(.some, _): true
        case .verify(_, _, _, let apiChanged): apiChanged
        default: false
        }
    }
}

/// The sync engine: the Drive and the document store kept in step, never losing a side's change.
public struct SyncEngine: Sendable {
    public let api: APIClient
    public let drive: WebDAVClient
    public let journal: Journal
    public let options: SyncOptions

    public init(api: APIClient, drive: WebDAVClient, journal: Journal, options: SyncOptions) {
        self.api = api
        self.drive = drive
        self.journal = journal
        self.options = options
    }

    /// One run: read both sides, decide per path, act per file (each outcome journaled after it succeeded).
    public func run() async throws -> SyncReport {
        var report = SyncReport()
        report.dryRun = options.dryRun
        try await retrying { try await api.verify() }

        // The API side: the feed since the last cursor, applied to the mirror.
        var (mirror, cursor) = try journal.mirror()
        let changes = try await retrying { try await api.feed(after: cursor) }
        if !options.dryRun { try journal.applyFeed(changes.documents, cursor: changes.cursor) }
        for document in changes.documents { mirror[document.id] = document }
        cursor = changes.cursor
        var apiByPath: [String: FeedDocument] = [:]
        for document in mirror.values where !document.withdrawn {
            if let path = document.drivePath { apiByPath[path] = document }
        }
        let withdrawnIDs = Set(mirror.values.filter(\.withdrawn).map(\.id))

        // The Drive side: one level at a time, only the folders the layout knows.
        let (remote, unknown) = try await walk()
        report.unknownRemotePaths = unknown.sorted()
        let entries = try journal.entries()
        let intents = try journal.intents()

        var decisions: [(String, Decision)] = []
        for path in Set(apiByPath.keys).union(remote.keys).union(entries.keys).sorted() {
            var decision = decide(api: apiByPath[path], remote: remote[path], journal: entries[path], withdrawnIDs: withdrawnIDs)
            // A file left by our own interrupted upload is finished, not taken for someone's edit.
            if case .reconcile(let document, let found) = decision, intents[path] == document.sha256 {
                decision = .push(document, replacing: found)
            }
            if decision != .none { decisions.append((path, decision)) }
        }
        decisions = decisions.filter { allowed($0.1) }

        let risky = decisions.filter { $0.1.changesExisting }.count
        let known = max(entries.count, 1)
        if !options.force, entries.count > 0, risky > options.maxChanges || Double(risky) / Double(known) > options.maxChangeRatio {
            report.safetyStop =
                "\(risky) of \(entries.count) known files would change (threshold \(Int(options.maxChangeRatio * 100)) % or \(options.maxChanges)); rerun with --force if that is intended"
            return report
        }

        var places: (laureates: [String: String], missions: [String: (id: String, laureates: [String])])?
        var madeCollections: Set<String> = []
        for (index, (path, decision)) in decisions.enumerated() {
            options.progress?("[\(index + 1)/\(decisions.count)] \(path)")
            if options.dryRun {
                note(decision, path, into: &report)
                continue
            }
            do {
                if case .pull(nil, _) = decision, places == nil { places = try await retrying { try await api.places() } }
                try await act(decision, path: path, places: places, madeCollections: &madeCollections, report: &report)
            } catch {
                report.failed[path] = "\(error)"
            }
        }
        return report
    }

    func allowed(_ decision: Decision) -> Bool {
        switch (options.direction, decision) {
        case (.both, _): true
        case (.push, .push), (.push, .repush), (.push, .archive), (.push, .forget), (.push, .verify): true
        case (.pull, .pull), (.pull, .reconcile), (.pull, .unknown), (.pull, .forget), (.pull, .verify): true
        case (_, .unknown): true
        default: false
        }
    }

    /// The decision table. A side "changed" when it differs from what the journal saw in sync.
    func decide(api: FeedDocument?, remote: RemoteEntry?, journal: JournalEntry?, withdrawnIDs: Set<String>) -> Decision {
        switch (api, remote, journal) {
        case (nil, nil, nil), (nil, nil, .some):
            return journal == nil ? .none : .forget
        case (let api?, nil, nil):
            return .push(api, replacing: nil)
        case (let api?, nil, .some):
            // Deleted on the Drive but not withdrawn in the store: reported, and pushed again.
            return .repush(api)
        case (nil, let remote?, let journal?):
            if let id = journal.documentID, withdrawnIDs.contains(id) { return .archive(remote) }
            // The document moved to another path (a new file name): this copy is archived, never deleted.
            if journal.documentID != nil { return .archive(remote) }
            if WebDAVClient.sameVersion(remote.etag, journal.remoteETag) {
                return journal.isRacy ? .verify(nil, remote, journal, apiChanged: false) : .none
            }
            return .pull(nil, remote)
        case (nil, let remote?, nil):
            return .pull(nil, remote)
        case (let api?, let remote?, nil):
            return .reconcile(api, remote)
        case (let api?, let remote?, let journal?):
            let apiChanged = api.sha256 != journal.sha256
            let remoteChanged =
                !WebDAVClient.sameVersion(remote.etag, journal.remoteETag) || (remote.length.map { $0 != journal.size } ?? false)
                || remoteChecksumDiffers(remote, journal.sha256)
            if !remoteChanged && journal.isRacy && remote.checksums["SHA256"] == nil {
                return .verify(api, remote, journal, apiChanged: apiChanged)
            }
            switch (apiChanged, remoteChanged) {
            case (false, false): return .none
            case (true, false): return .push(api, replacing: remote)
            case (false, true): return .pull(api, remote)
            case (true, true): return .reconcile(api, remote)
            }
        }
    }

    /// A server that publishes a SHA-256 checksum tells a same-size edit even when its tag does not move.
    func remoteChecksumDiffers(_ remote: RemoteEntry, _ sha256: String) -> Bool {
        guard let published = remote.checksums["SHA256"] else { return false }
        return published != sha256
    }

    /// Lists `<slug>/dossier/<kind>/` and `<slug>/missions/<ref>/<kind>/` with depth-1 PROPFINDs; anything else under
    /// the root (but the archive) is reported.
    func walk() async throws -> (files: [String: RemoteEntry], unknown: [String]) {
        var files: [String: RemoteEntry] = [:]
        var unknown: [String] = []
        var pending = [""]
        while let folder = pending.popLast() {
            guard let children = try await retrying({ try await drive.list(folder) }) else { continue }
            for child in children {
                let depth = child.path.split(separator: "/").count
                if child.isCollection {
                    if child.path == options.archiveFolder { continue }
                    if depth < 4 || (depth == 4 && child.path.split(separator: "/")[1] == DriveLayout.missionsFolder) {
                        pending.append(child.path)
                    } else {
                        unknown.append(child.path + "/")
                    }
                } else if case let layoutPath = child.path.precomposedStringWithCanonicalMapping,
                    (try? DriveLayout.location(of: layoutPath)) != nil
                {
                    // Clients on some systems write names decomposed (NFD): the layout reads them in NFC, IO uses theirs.
                    files[layoutPath] = child
                } else {
                    unknown.append(child.path)
                }
            }
        }
        return (files, unknown)
    }

    func note(_ decision: Decision, _ path: String, into report: inout SyncReport) {
        switch decision {
        case .push: report.pushed.append(path)
        case .repush: report.repushedAfterRemoteDeletion.append(path)
        case .pull: report.pulled.append(path)
        case .reconcile: report.conflicts.append(path)
        case .verify: break
        case .archive: report.archived.append(path)
        case .unknown(let path): report.unknownRemotePaths.append(path)
        case .none, .forget: break
        }
    }

    func act(
        _ decision: Decision, path: String, places: (laureates: [String: String], missions: [String: (id: String, laureates: [String])])?,
        madeCollections: inout Set<String>, report: inout SyncReport
    ) async throws {
        switch decision {
        case .none, .unknown:
            return
        case .forget:
            try journal.forget(path)
        case .push(let document, let replacing):
            let etag = try await push(document, to: replacing?.path ?? path, replacing: replacing?.etag, madeCollections: &madeCollections)
            try journal.record(
                .init(
                    path: path, documentID: document.id, version: document.version, sha256: document.sha256, remoteETag: etag,
                    size: document.size, remoteModified: nil))
            report.pushed.append(path)
        case .repush(let document):
            let etag = try await push(document, to: path, replacing: nil, madeCollections: &madeCollections)
            try journal.record(
                .init(
                    path: path, documentID: document.id, version: document.version, sha256: document.sha256, remoteETag: etag,
                    size: document.size, remoteModified: nil))
            report.repushedAfterRemoteDeletion.append(path)
        case .archive(let remote):
            let target = "\(options.archiveFolder)/\(Self.stamp())/\(path)"
            try await makeParents(of: target, made: &madeCollections)
            try await retrying { try await drive.move(remote.path, to: target) }
            try journal.forget(path)
            report.archived.append(path)
        case .pull(let document, let remote):
            let (file, sha) = try await fetch(remote, path: path)
            defer { try? FileManager.default.removeItem(at: file) }
            let updated: FeedDocument
            if let document {
                if document.sha256 == sha {
                    updated = document
                } else {
                    updated = try await retrying { try await api.addVersion(document, file: file, sha256: sha, conflict: false) }
                }
            } else {
                guard let location = try? DriveLayout.location(of: path) else {
                    report.unknownRemotePaths.append(path)
                    return
                }
                guard let laureate = places?.laureates[location.laureateSlug] else {
                    report.unknownRemotePaths.append(path)
                    return
                }
                var missionID: String?
                if let ref = location.missionRef {
                    guard let mission = places?.missions[ref.description], mission.laureates.contains(laureate) else {
                        report.unknownRemotePaths.append(path)
                        return
                    }
                    missionID = mission.id
                }
                updated = try await retrying {
                    try await api.create(
                        laureateID: missionID == nil ? laureate : nil, missionID: missionID, kind: location.kind.rawValue,
                        fileName: location.fileName, file: file, sha256: sha)
                }
            }
            try journal.record(
                .init(
                    path: path, documentID: updated.id, version: updated.version, sha256: sha, remoteETag: remote.etag,
                    size: remote.length ?? 0, remoteModified: remote.lastModified))
            report.pulled.append(path)
        case .verify(let document, let remote, let entry, let apiChanged):
            let (file, sha) = try await fetch(remote, path: path)
            try? FileManager.default.removeItem(at: file)
            if sha == entry.sha256 {
                // The Drive did not change: record the check (no longer racy), then do what the API side asks.
                try journal.record(
                    .init(
                        path: path, documentID: entry.documentID, version: entry.version, sha256: sha, remoteETag: remote.etag,
                        size: entry.size,
                        remoteModified: remote.lastModified))
                if let document, apiChanged {
                    try await act(
                        .push(document, replacing: remote), path: path, places: places, madeCollections: &madeCollections,
                        report: &report)
                }
                return
            }
            let next: Decision = document.map { apiChanged ? .reconcile($0, remote) : .pull($0, remote) } ?? .pull(nil, remote)
            try await act(next, path: path, places: places, madeCollections: &madeCollections, report: &report)
        case .reconcile(let document, let remote):
            let (file, sha) = try await fetch(remote, path: path)
            defer { try? FileManager.default.removeItem(at: file) }
            if sha == document.sha256 {
                // Same bytes on both sides (a first run, or a run killed between acting and journaling): in sync.
                try journal.record(
                    .init(
                        path: path, documentID: document.id, version: document.version, sha256: sha, remoteETag: remote.etag,
                        size: remote.length ?? 0, remoteModified: remote.lastModified))
                report.adopted.append(path)
                return
            }
            // Both changed: the Drive's bytes become a new version marked as a conflict; the store's stay as the
            // version before it; the Drive file is left as it is. Nothing is overwritten.
            let updated = try await retrying { try await api.addVersion(document, file: file, sha256: sha, conflict: true) }
            try journal.record(
                .init(
                    path: path, documentID: updated.id, version: updated.version, sha256: sha, remoteETag: remote.etag,
                    size: remote.length ?? 0, remoteModified: remote.lastModified))
            report.conflicts.append(path)
        }
    }

    /// Downloads a document from the API to a scratch file, checks it against the feed's size and SHA-256, then PUTs
    /// it: `If-None-Match: *` to create, `If-Match` to replace.
    func push(_ document: FeedDocument, to path: String, replacing etag: String?, madeCollections: inout Set<String>) async throws
        -> String?
    {
        let file = scratchFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try await retrying { try await api.download(document, to: file) }
        let (size, sha) = try Self.measure(file)
        guard size == document.size, sha == document.sha256 else {
            throw SyncError.checkFailed(path: path, reason: "the API sent \(size) bytes with another digest than its feed")
        }
        try await makeParents(of: path, made: &madeCollections)
        try journal.intend(path, sha256: sha, size: size)
        var replacing = etag
        if let current = replacing, current.hasPrefix("W/") {
            // A weak tag cannot guard a replacement: read the file's tag again.
            replacing = try await retrying { try await drive.propfind(path, depth: 0) }?.first?.etag ?? current
        }
        let precondition: WebDAVClient.Precondition = replacing.map { .replace(etag: $0) } ?? .create
        return try await retrying { try await drive.put(path, file: file, precondition: precondition) }
    }

    /// Downloads a Drive file to a scratch file and checks its size and, when the server publishes one, its checksum.
    func fetch(_ remote: RemoteEntry, path: String) async throws -> (URL, String) {
        let file = scratchFile()
        do {
            _ = try await retrying { try await drive.get(remote.path, to: file) }
            let (size, sha) = try Self.measure(file)
            if let length = remote.length, length != size {
                throw SyncError.checkFailed(path: path, reason: "expected \(length) bytes, got \(size): changed during the run?")
            }
            if let published = remote.checksums["SHA256"], published != sha {
                throw SyncError.checkFailed(path: path, reason: "SHA-256 differs from the server's checksum")
            }
            return (file, sha)
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
    }

    func makeParents(of path: String, made: inout Set<String>) async throws {
        let segments = path.split(separator: "/").dropLast()
        var current = ""
        for segment in segments {
            current = current.isEmpty ? String(segment) : current + "/" + segment
            if made.contains(current) { continue }
            try await retrying { try await drive.makeCollection(current) }
            made.insert(current)
        }
    }

    func scratchFile() -> URL { options.scratch.appendingPathComponent("mdp-sync-\(UUID().uuidString).part") }

    static func measure(_ file: URL) throws -> (Int, String) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        return (size, hex(hasher.finalize()))
    }

    static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date())
    }

    /// Retries transient failures with exponential backoff and full jitter; a `Retry-After` is honoured.
    func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                guard attempt < options.attempts, let delay = Self.retryDelay(error, attempt: attempt, base: options.baseDelay) else {
                    throw error
                }
                try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            }
        }
    }

    static func retryDelay(_ error: any Error, attempt: Int, base: TimeInterval) -> TimeInterval? {
        let backoff = base * pow(2, Double(attempt - 1))
        let jittered = Double.random(in: 0...backoff)
        switch error {
        case let transport as TransportError where transport.isTransient: return jittered
        case WebDAVError.locked: return jittered
        case WebDAVError.throttled(let retryAfter): return min(retryAfter ?? jittered, 60)
        case WebDAVError.status(let code, _) where code >= 500 || code == 429: return jittered
        case APIError.status(let code, _) where code >= 500 || code == 429: return jittered
        default: return nil
        }
    }
}

public enum SyncError: Error, Sendable, CustomStringConvertible {
    case checkFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .checkFailed(let path, let reason): "\(path): \(reason)"
        }
    }
}
