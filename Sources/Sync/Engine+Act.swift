import CCurl
import Domain
import Foundation
import Synchronization

/// Where the API keeps laureates and missions, to file a new Drive document: laureate id by slug, mission by reference.
typealias Places = (laureates: [String: String], missions: [String: (id: String, laureates: [String])])

/// What every transfer of a run shares: where new documents go, the collections made, what the Drive does, and
/// what was found along the way for the report.
struct RunContext: Sendable {
    let places: Places?
    let collections: Collections
    let traits: DriveTraits
    let keptAside = Findings()
    let lanes: Lanes
    /// The prefix of this journal's uploads (see `Journal.identity()`).
    let journalIdentity: String
}

/// The run's transfer lanes: at most `count` files are worked on at once. A file waiting for the Drive's clock (see
/// `DriveClock`) lends its lane to the next file meanwhile, so the wait costs the run nothing but that file's time.
final class Lanes: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(free: max(1, count))) }

    private func take() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if now { continuation.resume() }
        }
    }

    private func give() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()  // first come, first served
        }
        next?.resume()
    }

    /// Runs `body` in a lane.
    func holding<T>(_ body: () async throws -> T) async rethrows -> T {
        await take()
        defer { give() }
        return try await body()
    }

    /// From inside `holding`: runs `body` (a wait) without the lane, and takes one again before returning.
    func lending<T>(_ body: () async throws -> T) async rethrows -> T {
        give()
        do {
            let result = try await body()
            await take()
            return result
        } catch {
            await take()
            throw error
        }
    }
}

/// Stops a run whose peer went away: after `limit` files in a row failed because nothing answered at the address
/// (each after its own retries), the files left are not tried, and the files under way make no further request
/// (see `SyncEngine.retrying`): the run ends with exit 1 at once, instead of minutes of retries, one per file. Any
/// success closes it again; each run starts closed.
final class Breaker: Sendable {
    static let limit = 8
    private let state = Mutex<(failures: Int, open: Bool)>((0, false))

    var isOpen: Bool { state.withLock { $0.open } }

    func succeeded() { state.withLock { $0 = (0, false) } }

    /// Why a file was not tried, or gave up without a further request, once the breaker is open.
    struct Open: Error, CustomStringConvertible {
        var description: String {
            "not tried: \(Breaker.limit) files in a row found nothing answering (the Drive or the API went away)"
        }
    }

    func failed(_ error: any Error) {
        let unreachable = (error as? TransportError)?.code == Int(CURLE_COULDNT_CONNECT.rawValue)
        state.withLock { state in
            state.failures = unreachable ? state.failures + 1 : 0
            if state.failures >= Self.limit { state.open = true }
        }
    }
}

/// Drive path → where its bytes were kept, filled by concurrent transfers.
final class Findings: Sendable {
    private let found = Mutex<[String: String]>([:])

    func note(_ path: String, keptAt place: String) { found.withLock { $0[path] = place } }
    var values: [String: String] { found.withLock { $0 } }
}

/// What acting on one path did.
enum Outcome: Equatable, Sendable {
    case pushed, repushed, archived, pulled, conflictKept, adopted, unknown, forgotten
    /// The content was read again and both sides are in step: nothing moved.
    case inStep
    /// Read again, it needs a transfer the run's `--direction` leaves out.
    case leftToOtherDirection

    func note(_ path: String, into report: inout SyncReport) {
        switch self {
        case .pushed: report.pushed.append(path)
        case .repushed: report.repushedAfterRemoteDeletion.append(path)
        case .archived: report.archived.append(path)
        case .pulled: report.pulled.append(path)
        case .conflictKept: report.conflicts.append(path)
        case .adopted: report.adopted.append(path)
        case .unknown: report.unknownRemotePaths.append(path)
        case .inStep: report.readAgain.append(path)
        case .forgotten, .leftToOtherDirection: break
        }
    }
}

extension Decision {
    /// Whether acting on it may make a new document from a Drive file, which needs to know where each folder belongs
    /// (the run then reads the laureates and missions): a pull of a file no document holds, directly, or once a
    /// stray file proves someone else's, or once a file with no document is read again and found changed.
    var mayCreateDocument: Bool {
        switch self {
        case .pull(nil, _), .stray, .verify(nil, _, _, _): true
        default: false
        }
    }

    /// What acting on it is expected to do, as a dry run reports it (nil: nothing the report shows).
    var expectedOutcome: Outcome? {
        switch self {
        case .push: .pushed
        case .repush: .repushed
        case .pull: .pulled
        case .reconcile: .conflictKept
        case .resume: .pushed
        case .stray: .archived
        case .archive: .archived
        case .verify, .none, .forget: nil
        }
    }
}

/// Where a pushed file landed: its tag, and its date with the time it was known in step when the engine could read
/// them after landing (else the time of the push, and the next listing gives the date).
struct Landed: Sendable {
    let etag: String?
    let modified: Date?
    let checkedAt: Date
}

/// A file that could not be synced, for the report.
struct SyncFailure: Error, Sendable {
    let description: String
}

extension SyncEngine {
    /// Acts on one path. A push refused with 412 (the Drive file changed, or appeared, since it was listed) is decided
    /// again once from a fresh read of that file: it then becomes a pull or a conflict kept, never an overwrite.
    func act(_ decision: Decision, path: String, context: RunContext, again: Bool = false) async throws -> Outcome {
        do {
            return try await perform(decision, path: path, context: context)
        } catch WebDAVError.preconditionFailed where !again {
            let document: FeedDocument
            let target: String
            switch decision {
            case .push(let pushed, let replacing): (document, target) = (pushed, replacing?.path ?? path)
            case .repush(let pushed): (document, target) = (pushed, path)
            case .verify(let pushed?, let remote, _, apiChanged: true): (document, target) = (pushed, remote.path)
            default: throw WebDAVError.preconditionFailed
            }
            let fresh = try await retrying { try await drive.propfind(target, depth: 0) }?.first
            let next = Self.decide(api: document, remote: fresh, journal: try journal.entry(path), withdrawnIDs: [])
            return try await act(next, path: path, context: context, again: true)
        } catch APIError.stale where !again {
            // The API's document moved on since the feed was read (someone added a version meanwhile): both sides
            // read again, and the path decided again, once (a conflict kept when both changed).
            let document: FeedDocument
            let remote: RemoteEntry
            switch decision {
            case .pull(let pulled?, let listed), .reconcile(let pulled, let listed), .resume(let pulled, let listed, _):
                (document, remote) = (pulled, listed)
            case .verify(let pulled?, let listed, _, _): (document, remote) = (pulled, listed)
            default: throw APIError.stale
            }
            let current = try await retrying { try await api.document(id: document.id) }
            let fresh = try await retrying { try await drive.propfind(remote.path, depth: 0) }?.first
            let next = Self.decide(
                api: current.withdrawn ? nil : current, remote: fresh, journal: try journal.entry(path),
                withdrawnIDs: current.withdrawn ? [current.id] : [])
            return try await act(next, path: path, context: context, again: true)
        }
    }

    private func perform(_ decision: Decision, path: String, context: RunContext) async throws -> Outcome {
        let (places, collections) = (context.places, context.collections)
        switch decision {
        case .none:
            return .inStep
        case .forget:
            try journal.forget(path)
            return .forgotten
        case .push(let document, let replacing):
            let target = replacing?.path ?? path
            let landed = try await push(document, to: target, replacing: replacing?.etag, context: context)
            try journal.record(.pushed(document, path: path, remotePath: target, landed: landed))
            return .pushed
        case .repush(let document):
            let landed = try await push(document, to: path, replacing: nil, context: context)
            try journal.record(.pushed(document, path: path, remotePath: path, landed: landed))
            return .repushed
        case .archive(let remote):
            let target = "\(options.archiveFolder)/\(Self.stamp())/\(path)"
            try await makeParents(of: target, collections: collections)
            try await retrying { try await drive.move(remote.path, to: target) }
            try journal.forget(path)
            return .archived
        case .pull(let document, let remote):
            let (file, sha) = try await fetch(remote, path: path)
            defer { try? FileManager.default.removeItem(at: file) }
            let updated: FeedDocument
            if let document {
                updated =
                    document.sha256 == sha
                    ? document : try await retrying { try await api.addVersion(document, file: file, sha256: sha, conflict: false) }
            } else {
                guard let place = Self.place(of: path, in: places) else { return .unknown }
                updated = try await retrying {
                    try await api.create(
                        laureateID: place.missionID == nil ? place.laureateID : nil, missionID: place.missionID, kind: place.kind,
                        fileName: place.fileName, file: file, sha256: sha)
                }
            }
            try journal.record(.seen(remote, path: path, document: updated, sha256: sha, at: Date()))
            return .pulled
        case .verify(let document, let remote, let entry, let apiChanged):
            let (file, sha) = try await fetch(remote, path: path)
            try? FileManager.default.removeItem(at: file)
            if sha == entry.sha256 {
                // The Drive did not change: record the check (no longer racy), then do what the API side asks.
                try journal.record(
                    .init(
                        path: path, documentID: entry.documentID, version: entry.version, sha256: sha, remoteETag: remote.etag,
                        size: entry.size, remoteModified: remote.lastModified, checkedAt: Date(), remotePath: remote.path))
                if let document, apiChanged {
                    let push = Decision.push(document, replacing: remote)
                    guard allowed(push) else { return .leftToOtherDirection }
                    return try await perform(push, path: path, context: context)
                }
                return .inStep
            }
            let next: Decision = document.map { apiChanged ? .reconcile($0, remote) : .pull($0, remote) } ?? .pull(nil, remote)
            guard allowed(next) else { return .leftToOtherDirection }
            return try await perform(next, path: path, context: context)
        case .stray(let remote, let intent):
            let (file, sha) = try await fetch(remote, path: path)
            defer { try? FileManager.default.removeItem(at: file) }
            guard try await isOwnUpload(file, sha: sha, intent: intent, path: path) else {
                // Someone's file, saved where an upload of ours had been cut: it is theirs to keep, as a new document.
                try journal.dropIntent(path)
                let pull = Decision.pull(nil, remote)
                guard allowed(pull) else { return .leftToOtherDirection }
                return try await perform(pull, path: path, context: context)
            }
            let outcome = try await perform(.archive(remote), path: path, context: context)
            try journal.dropIntent(path)
            return outcome
        case .reconcile(let document, let remote), .resume(let document, let remote, _):
            let (file, sha) = try await fetch(remote, path: path)
            defer { try? FileManager.default.removeItem(at: file) }
            if sha == document.sha256 {
                // Same bytes on both sides (a first run, or a run killed between acting and journaling): in sync.
                try journal.record(.seen(remote, path: path, document: document, sha256: sha, at: Date()))
                return .adopted
            }
            if case .resume(_, _, let intent) = decision,
                try await isOwnUpload(file, sha: sha, intent: intent, current: document, path: path)
            {
                // The engine's own upload, cut short or of a version the document has left since: replaced in place.
                let push = Decision.push(document, replacing: remote)
                guard allowed(push) else { return .leftToOtherDirection }
                return try await perform(push, path: path, context: context)
            }
            // Both changed: the Drive's bytes become a new version marked as a conflict; the store's stay as the
            // version before it; the Drive file is left as it is. Nothing is overwritten.
            let updated = try await retrying { try await api.addVersion(document, file: file, sha256: sha, conflict: true) }
            try journal.record(.seen(remote, path: path, document: updated, sha256: sha, at: Date()))
            return .conflictKept
        }
    }

    /// Whether `file` (read from the Drive, `sha` its digest) is the engine's own upload of the intent's version: its
    /// bytes, or a strict prefix of them, compared with that version read from the API (checked against the intent's
    /// size and digest). An intent proves nothing by itself: someone may have saved a file of their own there.
    func isOwnUpload(_ file: URL, sha: String, intent: UploadIntent, current: FeedDocument? = nil, path: String) async throws -> Bool {
        if sha == intent.sha256 { return true }
        let (size, _) = try Self.measure(file)
        guard size < intent.size else { return false }
        let reference: URL
        if let documentID = intent.documentID, let version = intent.version {
            reference = scratchFile()
            do {
                try await retrying { try await api.download(documentID: documentID, version: version, to: reference) }
            } catch {
                try? FileManager.default.removeItem(at: reference)
                throw error
            }
        } else if let current, current.sha256 == intent.sha256 {
            // An intent from before versions were recorded: only the current version can be the one it names.
            reference = try await downloadChecked(current, path: path)
        } else {
            return false
        }
        defer { try? FileManager.default.removeItem(at: reference) }
        let (referenceSize, referenceSHA) = try Self.measure(reference)
        guard referenceSize == intent.size, referenceSHA == intent.sha256 else {
            throw SyncError.checkFailed(path: path, reason: "the API sent another version than the one uploaded here")
        }
        return try Self.isPrefix(file, of: reference)
    }

    /// Whether the bytes of `file` are the first bytes of `reference`.
    static func isPrefix(_ file: URL, of reference: URL) throws -> Bool {
        let found = try FileHandle(forReadingFrom: file)
        let expected = try FileHandle(forReadingFrom: reference)
        defer {
            try? found.close()
            try? expected.close()
        }
        while let chunk = try found.read(upToCount: 1 << 16), !chunk.isEmpty {
            guard let same = try expected.read(upToCount: chunk.count), same == chunk else { return false }
        }
        return true
    }

    /// The document's current bytes from the API in a scratch file, checked against the feed's size and SHA-256.
    func downloadChecked(_ document: FeedDocument, path: String) async throws -> URL {
        let file = scratchFile()
        do {
            try await retrying { try await api.download(document, to: file) }
            let (size, sha) = try Self.measure(file)
            guard size == document.size, sha == document.sha256 else {
                throw SyncError.checkFailed(path: path, reason: "the API sent \(size) bytes with another digest than its feed")
            }
            return file
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
    }

    /// The laureate (and mission) a new Drive file belongs to, by its place in the layout; nil when the API knows none.
    static func place(of path: String, in places: Places?) -> (
        laureateID: String, missionID: String?, kind: DocumentKind, fileName: String
    )? {
        guard let location = try? DriveLayout.location(of: path), let laureate = places?.laureates[location.laureateSlug] else {
            return nil
        }
        guard let ref = location.missionRef else { return (laureate, nil, location.kind, location.fileName) }
        guard let mission = places?.missions[ref.description], mission.laureates.contains(laureate) else { return nil }
        return (laureate, mission.id, location.kind, location.fileName)
    }

    /// Downloads a document from the API to a scratch file, checks it against the feed's size and SHA-256, then puts it
    /// on the Drive without ever landing on bytes someone else wrote: by preconditions where the Drive honours them
    /// (`If-None-Match: *` to create, `If-Match` to replace), else by a name of the engine's own and a MOVE that never
    /// overwrites; a Drive that does neither is not written to. On a Drive whose file tags count whole seconds, a new
    /// file also goes the second way, moved into place once the Drive's clock has passed its upload's second, so that
    /// the next run can trust its tag instead of reading it back (see `DriveClock`).
    func push(_ document: FeedDocument, to path: String, replacing etag: String?, context: RunContext) async throws -> Landed {
        guard context.traits.canWriteSafely else {
            throw SyncError.checkFailed(
                path: path,
                reason:
                    "the Drive honours neither If-Match / If-None-Match nor Overwrite: F (or could not be probed): nothing is written to it"
            )
        }
        let file = try await downloadChecked(document, path: path)
        defer { try? FileManager.default.removeItem(at: file) }
        try await makeParents(of: path, collections: context.collections)
        try journal.intend(path, sha256: document.sha256, size: document.size, documentID: document.id, version: document.version)
        do {
            if context.traits.honoursPreconditions && !(etag == nil && context.traits.landsAfterItsSecond(path)) {
                return Landed(etag: try await put(file, at: path, replacing: etag), modified: nil, checkedAt: Date())
            }
            return try await place(file, at: path, replacing: etag, context: context)
        } catch WebDAVError.preconditionFailed {
            try journal.dropIntent(path)
            throw WebDAVError.preconditionFailed
        }
    }

    /// A PUT guarded by a precondition, on a Drive found to honour them.
    private func put(_ file: URL, at path: String, replacing etag: String?) async throws -> String? {
        var replacing = etag
        if let current = replacing, current.hasPrefix("W/") {
            // Only the same version, its tag turned strong, may guard the replacement: a tag that names another
            // version means someone wrote the file since it was listed, and the path is decided again.
            guard let strong = try await strongTag(of: path), WebDAVClient.sameVersion(strong, current) else {
                throw WebDAVError.preconditionFailed
            }
            replacing = strong
        }
        let precondition: WebDAVClient.Precondition = replacing.map { .replace(etag: $0) } ?? .create
        return try await retrying { try await drive.put(path, file: file, precondition: precondition) }
    }

    /// On a Drive that ignores preconditions (probed; `rclone serve webdav` is one): the bytes go up under a name of the
    /// engine's own in the archive folder, then are moved into place with `Overwrite: F`, so a create never lands on a
    /// file that appeared meanwhile and nobody sees a partial upload under the document's name. A file to replace is
    /// first moved aside into the archive, where its bytes stay; if what was moved is not the version listed (someone
    /// wrote since), it goes back and the path is decided again, as a 412 would have it.
    ///
    /// On a Drive whose file tags count whole seconds, a new file is moved into place only once the Drive's clock has
    /// passed the second of its upload (the file lends its lane meanwhile): a later write by anyone then dates it in a
    /// later second and moves its tag, so the file is known in step without being read back.
    private func place(_ file: URL, at path: String, replacing etag: String?, context: RunContext) async throws -> Landed {
        let uploads = "\(options.archiveFolder)/\(Self.uploadsFolder)"
        let upload = "\(uploads)/\(context.journalIdentity)-\(UUID().uuidString.lowercased())"
        try await makeParents(of: upload, collections: context.collections)
        let tag = try await retrying { try await drive.put(upload, file: file, precondition: .ownFile) }
        let uploadedBy = drive.clock.latest  // at or after the upload's own date
        var settledAt: Date?
        do {
            if etag == nil, !context.traits.fineFileTags, let uploadedBy {
                try? FileManager.default.removeItem(at: file)  // its bytes are on the Drive: a file waiting holds no disk
                let past = await context.lanes.lending {
                    await drive.clock.waitPast(uploadedBy) { _ = try? await drive.propfind(uploads, depth: 0) }
                }
                if past { settledAt = drive.clock.latest }
            }
            try await moveAside(path, replacing: etag, context: context)
            try await retrying { try await drive.move(upload, to: path) }
        } catch {
            try? await drive.delete(upload)
            throw error
        }
        guard let tag else {
            return Landed(
                etag: try await retrying { try await drive.propfind(path, depth: 0) }?.first?.etag, modified: nil, checkedAt: Date())
        }
        guard let settledAt, let uploadedBy else { return Landed(etag: tag, modified: nil, checkedAt: Date()) }
        // Known in step from the upload's tag: dated at the latest `uploadedBy`, moved once the Drive's clock read
        // `settledAt`, a later second, so any later write is dated later still. A server that dates or tags a moved
        // file anew shows another tag in the next listing, and the file is read once more then: nothing is trusted
        // that the Drive did not say.
        return Landed(etag: tag, modified: uploadedBy, checkedAt: settledAt)
    }

    /// Moves the version listed as `etag` out of `path` into the archive before it is replaced (nothing to do for a
    /// create). A 412 means "decide again": the file went away, or someone wrote it since it was listed (their bytes
    /// then go back under their name, or stay aside, reported, when yet another file took it meanwhile).
    private func moveAside(_ path: String, replacing etag: String?, context: RunContext) async throws {
        if let etag {
            let aside = "\(options.archiveFolder)/\(Self.stamp())-\(UUID().uuidString.prefix(8).lowercased())/\(path)"
            try await makeParents(of: aside, collections: context.collections)
            do {
                try await retrying { try await drive.move(path, to: aside) }
            } catch WebDAVError.notFound {
                throw WebDAVError.preconditionFailed  // removed since it was listed: decided again
            }
            let moved = try await retrying { try await drive.propfind(aside, depth: 0) }?.first
            guard let moved, WebDAVClient.sameVersion(moved.etag, etag) else {
                do {
                    try await retrying { try await drive.move(aside, to: path) }
                } catch WebDAVError.preconditionFailed {
                    context.keptAside.note(path, keptAt: aside)  // yet another file took the name: these bytes stay aside
                }
                throw WebDAVError.preconditionFailed
            }
        }
    }

    /// Where uploads wait, under the archive folder, before they are moved into place.
    static let uploadsFolder = ".mdp-uploads"

    /// Removes the uploads killed or cut runs left waiting (the engine's own bytes, under names only it makes): every
    /// one of this journal's (its runs take turns, so none is under way), and any other over an hour old (another
    /// journal's run may still be moving its own). Run before any transfer; a failure here stops nothing.
    func sweepUploads(journalIdentity: String) async {
        let uploads = "\(options.archiveFolder)/\(Self.uploadsFolder)"
        guard let waiting = try? await retrying({ try await drive.list(uploads) }) else { return }
        for leftover in waiting where !leftover.isCollection {
            let name = leftover.path.split(separator: "/").last.map(String.init) ?? ""
            let stale = leftover.lastModified.map { $0.timeIntervalSinceNow < -3_600 } ?? false
            if name.hasPrefix(journalIdentity + "-") || stale { try? await drive.delete(leftover.path) }
        }
    }

    /// A weak tag cannot guard a replacement (`If-Match` compares strongly), and Apache keeps a file's tag weak for the
    /// second after it was written: its tag is read again until it turns strong, within a deadline. A file that keeps
    /// changing keeps a weak tag, and its replacement is then refused (412) and decided again.
    func strongTag(of path: String) async throws -> String? {
        let deadline = Date().addingTimeInterval(3)
        while true {
            let tag = try await retrying { try await drive.propfind(path, depth: 0) }?.first?.etag
            guard let tag, tag.hasPrefix("W/"), Date() < deadline else { return tag }
            try await Task.sleep(for: .milliseconds(200))
        }
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

    /// Every parent collection of `path`, each made once per run.
    func makeParents(of path: String, collections: Collections) async throws {
        for folder in Self.ancestors(of: path) {
            try await collections.ensure(folder) { try await retrying { try await drive.makeCollection(folder) } }
        }
    }
}

extension JournalEntry {
    /// After a push: the document's version, the tag the Drive gave it, and its date when it was read after landing
    /// (else the next listing gives it).
    static func pushed(_ document: FeedDocument, path: String, remotePath: String, landed: Landed) -> JournalEntry {
        JournalEntry(
            path: path, documentID: document.id, version: document.version, sha256: document.sha256, remoteETag: landed.etag,
            size: document.size, remoteModified: landed.modified, checkedAt: landed.checkedAt, remotePath: remotePath)
    }

    /// After reading the Drive's file: its listing, and the document version that now holds the same bytes.
    static func seen(_ remote: RemoteEntry, path: String, document: FeedDocument, sha256: String, at time: Date) -> JournalEntry {
        JournalEntry(
            path: path, documentID: document.id, version: document.version, sha256: sha256, remoteETag: remote.etag,
            size: remote.length ?? 0, remoteModified: remote.lastModified, checkedAt: time, remotePath: remote.path)
    }
}
