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
    /// At most this many files are transferred, and folders listed, at once (within `parallelRange`).
    public var parallel = 4
    public static let parallelRange = 1...64
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
    /// Files read back because their tag could not tell whether they changed (dated in the second they were last
    /// checked, on a Drive whose tags count whole seconds), and found unchanged.
    public var readAgain: [String] = []
    public var unknownRemotePaths: [String] = []
    public var failed: [String: String] = [:]
    public var safetyStop: String?
    public var dryRun = false
    /// Depth-1 listings made, and the folders not listed because their tag had not moved since they were in step.
    public var foldersListed = 0
    public var foldersSkipped: [String] = []
    /// What the Drive was found to do (probed once a day): how the run wrote to it.
    public var drive: DriveTraits?
    /// Bytes someone wrote on the Drive while a replacement was under way, on a Drive that ignores preconditions,
    /// that could not go back under their name (something else took it meanwhile): Drive path → where they are kept.
    public var keptAside: [String: String] = [:]
    /// Drive files whose names differ from a synced one only by Unicode form: reported on every run until renamed.
    public var nameTwins: [NameTwin] = []

    public var exitCode: Int32 {
        safetyStop != nil ? SyncExit.safetyStop : (failed.isEmpty && nameTwins.isEmpty ? SyncExit.ok : SyncExit.someFilesFailed)
    }
}

/// Two Drive files whose names read the same once in NFC (`café.txt` written composed by one client, decomposed by
/// another): `synced` is kept in step, `path` is left untouched and reported, a conflict for a person to settle.
public struct NameTwin: Sendable, Codable, Equatable {
    public let path: String
    public let synced: String
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
    /// Like `reconcile`, where an upload of this document was started and not recorded as finished: the Drive file is
    /// taken for the engine's own only if its bytes prove it (the bytes of the version it was uploading, or a prefix
    /// of them), whatever version the document has reached since.
    case resume(FeedDocument, RemoteEntry, UploadIntent)
    /// A file where an upload started for a document that has since moved elsewhere (renamed, withdrawn): if its bytes
    /// prove it the engine's own, it goes aside into the archive (kept, never deleted); else it is someone's file.
    case stray(RemoteEntry, UploadIntent)
    /// Nothing seems to have moved on the Drive, but the last check was too close to the file's last write to
    /// trust its tag: read the bytes (then push, pull or reconcile as they say).
    case verify(FeedDocument?, RemoteEntry, JournalEntry, apiChanged: Bool)
    case archive(RemoteEntry)
    case forget

    var changesExisting: Bool {
        switch self {
        case .push(_, replacing: .some), .archive, .reconcile, .resume, .repush, .stray: true
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
    /// Opens when the Drive or the API goes away during a run (closed again at the start of each).
    let breaker = Breaker()

    public init(api: APIClient, drive: WebDAVClient, journal: Journal, options: SyncOptions) {
        self.api = api
        self.drive = drive
        self.journal = journal
        self.options = options
    }

    /// Files under way per transfer lane: most wait for the Drive's clock, holding nothing but a name on the Drive.
    static let filesPerLane = 64

    /// One run: read both sides, decide per path, act per file (at most `parallel` at once, each outcome journaled
    /// after it succeeded), then remember which folders are in step.
    public func run() async throws -> SyncReport {
        breaker.succeeded()
        var report = SyncReport()
        report.dryRun = options.dryRun
        try await retrying { try await api.verify() }
        try await checkRoot()

        let (apiByPath, withdrawnIDs) = try await apiSide()

        // The Drive side: one level at a time, only the folders the layout knows, not those whose tag says "unchanged".
        let entries = try journal.entries()
        let traits = await driveTraits()
        // A dry run without a remembered probe knows nothing of the Drive: its report says so, not "unsafe".
        report.drive = options.dryRun && traits == .unknown ? nil : traits
        let drive = try await walk(traits: traits, recorded: try journal.folders(), entries: entries)
        report.unknownRemotePaths = drive.unknown.sorted()
        report.foldersListed = drive.listed
        report.foldersSkipped = drive.skipped.keys.sorted()
        report.nameTwins = drive.twins
        let intents = try journal.intents()

        var decisions: [(String, Decision)] = []
        for path in Set(apiByPath.keys).union(drive.files.keys).union(entries.keys).sorted() {
            var decision = Self.decide(
                api: apiByPath[path], remote: drive.files[path], journal: entries[path], withdrawnIDs: withdrawnIDs,
                fineTags: traits.fineFileTags)
            // An upload of ours may have been cut there: only the file's bytes can say so, never the intent alone.
            if let intent = intents[path] {
                switch decision {
                case .reconcile(let document, let found) where intent.sha256 == document.sha256 || intent.documentID == document.id:
                    decision = .resume(document, found, intent)
                case .pull(nil, let found) where intent.documentID != nil:
                    decision = .stray(found, intent)
                default: break
                }
            }
            if decision != .none { decisions.append((path, decision)) }
        }
        // Whatever is decided (in any direction) keeps its folders from being taken as in step; so do name twins.
        var unsettled = Set(drive.unknown.map(\.precomposedStringWithCanonicalMapping))
        for twin in drive.twins { unsettled.insert(twin.path.precomposedStringWithCanonicalMapping) }
        for (path, decision) in decisions where decision != .forget { unsettled.insert(path) }
        decisions = decisions.filter { allowed($0.1) }

        let risky = decisions.filter { $0.1.changesExisting }.count
        let known = max(entries.count, 1)
        if !options.force, entries.count > 0, risky > options.maxChanges || Double(risky) / Double(known) > options.maxChangeRatio {
            report.safetyStop =
                "\(risky) of \(entries.count) known files would change (threshold \(Int(options.maxChangeRatio * 100)) % or \(options.maxChanges)); rerun with --force if that is intended"
            return report
        }
        if options.dryRun {
            for (path, decision) in decisions { decision.expectedOutcome?.note(path, into: &report) }
            return report
        }

        let needsPlaces = decisions.contains { $0.1.mayCreateDocument }
        let journalIdentity = try journal.identity()
        await sweepUploads(journalIdentity: journalIdentity)
        let context = RunContext(
            places: needsPlaces ? try await retrying { try await api.places() } : nil, collections: Collections(), traits: traits,
            lanes: Lanes(options.parallel), journalIdentity: journalIdentity)
        let planned = decisions
        // More files under way than lanes: those waiting for the Drive's clock lend theirs (see `DriveClock`).
        let outcomes = try await concurrently(
            Array(planned.indices), limit: min(max(options.parallel, 1), SyncOptions.parallelRange.upperBound) * Self.filesPerLane
        ) { index in
            await context.lanes.holding {
                let (path, decision) = planned[index]
                options.progress?("[\(index + 1)/\(planned.count)] \(path)")
                guard !breaker.isOpen else {
                    return Result<Outcome, SyncFailure>.failure(SyncFailure(description: "\(Breaker.Open())"))
                }
                do {
                    let outcome = try await act(decision, path: path, context: context)
                    breaker.succeeded()
                    return Result<Outcome, SyncFailure>.success(outcome)
                } catch {
                    breaker.failed(error)
                    return .failure(SyncFailure(description: "\(error)"))
                }
            }
        }
        // Outcomes come back in the plan's order: no tuple is built across the transfer's await.
        for ((path, _), outcome) in zip(planned, outcomes) {
            switch outcome {
            case .success(let outcome):
                outcome.note(path, into: &report)
                if outcome == .inStep { unsettled.remove(path) }
            case .failure(let failure):
                report.failed[path] = failure.description
            }
        }
        report.keptAside = context.keptAside.values
        try settle(drive, traits: traits, unsettled: unsettled, entries: entries, decided: Set(decisions.map(\.0)))
        return report
    }

    /// The API side: the mirror brought up to date with the feed since its cursor (and saved, but in a dry run), as
    /// documents by Drive path and the ids of withdrawn ones. The mirror itself is let go on return.
    func apiSide() async throws -> (byPath: [String: FeedDocument], withdrawnIDs: Set<String>) {
        var (mirror, cursor) = try journal.mirror()
        let changes = try await retrying { [cursor] in try await api.feed(after: cursor) }
        if !options.dryRun { try journal.applyFeed(changes.documents, cursor: changes.cursor) }
        for document in changes.documents { mirror[document.id] = document }
        var byPath: [String: FeedDocument] = [:]
        byPath.reserveCapacity(mirror.count)
        var withdrawnIDs: Set<String> = []
        for document in mirror.values {
            if document.withdrawn {
                withdrawnIDs.insert(document.id)
            } else if let path = document.drivePath {
                byPath[path] = document
            }
        }
        return (byPath, withdrawnIDs)
    }

    func allowed(_ decision: Decision) -> Bool {
        switch (options.direction, decision) {
        case (.both, _): true
        case (.push, .push), (.push, .repush), (.push, .archive), (.push, .forget), (.push, .verify), (.push, .resume): true
        case (.push, .stray): true
        case (.pull, .pull), (.pull, .reconcile), (.pull, .forget), (.pull, .verify), (.pull, .resume): true
        default: false
        }
    }

    /// The decision table. A side "changed" when it differs from what the journal saw in sync. On a Drive whose file
    /// tags move with any write (`fineTags`, probed) a tag that did not move is trusted; with tags by the second, a
    /// file checked in the second of its last write is read again.
    static func decide(
        api: FeedDocument?, remote: RemoteEntry?, journal: JournalEntry?, withdrawnIDs: Set<String>, fineTags: Bool = false
    ) -> Decision {
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
                return !fineTags && journal.isRacy(listedModified: remote.lastModified)
                    ? .verify(nil, remote, journal, apiChanged: false) : .none
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
            if !remoteChanged && !fineTags && journal.isRacy(listedModified: remote.lastModified) && remote.checksums["SHA256"] == nil {
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
    static func remoteChecksumDiffers(_ remote: RemoteEntry, _ sha256: String) -> Bool {
        guard let published = remote.checksums["SHA256"] else { return false }
        return published != sha256
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

    /// The Drive's root must be a folder the credentials may read: anything else is a configuration error, said in
    /// one line before anything moves (a missing root once gave hundreds of `409 Conflict`, one per folder made).
    func checkRoot() async throws {
        let root: RemoteEntry?
        let place = Endpoint.display(drive.base)
        do {
            root = try await retrying { try await drive.propfind("", depth: 0) }?.first
        } catch WebDAVError.unauthorized {
            throw SyncError.driveRoot("the Drive refused the credentials (401/403) for \(place)")
        } catch WebDAVError.redirected(let code, let location) {
            throw SyncError.driveRoot(
                "the Drive redirects \(place) (\(code))"
                    + (location.map { " to \(String($0.prefix(300)).printable): use that URL" } ?? ": use the URL it redirects to"))
        } catch WebDAVError.status(let code, _) where (400..<500).contains(code) {
            // Some servers (Apache) refuse a file's URL with a slash added: asked as given, it may say what is there.
            if let entry = try? await drive.baseResource(), !entry.isCollection {
                throw SyncError.driveRoot("\(place) is a file on the Drive, not a folder")
            }
            throw SyncError.driveRoot(
                "the Drive answered \(code) for \(place): not a folder there (a missing folder or a file?), or a wrong path")
        } catch WebDAVError.malformedResponse, WebDAVError.status(200..<300, _) {
            throw SyncError.driveRoot("\(place) did not answer as a WebDAV folder (a web page, or another service?): check the WebDAV URL")
        }
        guard let root else {
            throw SyncError.driveRoot(
                "\(Endpoint.display(drive.base)) does not exist on the Drive: create the folder or correct the WebDAV URL")
        }
        guard root.isCollection else { throw SyncError.driveRoot("\(Endpoint.display(drive.base)) is a file on the Drive, not a folder") }
    }

    /// Retries transient failures with exponential backoff and full jitter; a `Retry-After` is honoured. Once the
    /// run's breaker is open (the Drive or the API went away), no further request is made.
    func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            if breaker.isOpen { throw Breaker.Open() }
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
        // The Drive's Retry-After is bounded before use: "nan", "-1e300" or "1e300" must not reach an Int conversion.
        case WebDAVError.throttled(let retryAfter):
            return retryAfter.map { $0.isFinite ? min(max($0, 0), 60) : jittered } ?? min(jittered, 60)
        case WebDAVError.status(let code, _) where code >= 500 || code == 429: return jittered
        case APIError.status(let code, _) where code >= 500 || code == 429: return jittered
        default: return nil
        }
    }
}

public enum SyncError: Error, Sendable, CustomStringConvertible {
    case checkFailed(path: String, reason: String)
    /// The Drive's root is missing, not a folder, or refused: a configuration error (exit 2), found before any transfer.
    case driveRoot(String)

    public var description: String {
        switch self {
        case .checkFailed(let path, let reason): "\(path): \(reason)"
        case .driveRoot(let reason): reason
        }
    }
}
