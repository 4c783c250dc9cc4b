import Domain
import Foundation
import Synchronization

/// The Drive side of a run: files by layout path (NFC), what the layout does not know, and the folders seen.
struct DriveListing {
    /// Listed, or taken from the journal for a folder whose tag did not move.
    var files: [String: RemoteEntry] = [:]
    var unknown: [String] = []
    /// Every folder of the layout seen (listed or skipped), as its parent listed it, with when that listing was asked.
    var folders: [String: (entry: RemoteEntry, askedAt: Date)] = [:]
    /// Listed folders that held no folder.
    var leaves: Set<String> = []
    /// Folders not listed again, by path, with the record that let them be skipped.
    var skipped: [String: FolderRecord] = [:]
    /// The records of folders below a skipped one (a Drive whose tags move with anything below), kept as they were.
    var recordedBelowSkipped: [String: FolderRecord] = [:]
    /// How many listings were made.
    var listed = 0
    /// Files whose names differ from a synced one only by Unicode form (`café` in NFC and NFD, two files on the
    /// server's disk), with the one synced. Never one silently dropped.
    var twins: [NameTwin] = []
}

extension DriveListing {
    /// Whether a folder belongs to the layout: `<slug>`, `<slug>/dossier|missions`, `<slug>/dossier/<kind>`,
    /// `<slug>/missions/<ref>` and `<slug>/missions/<ref>/<kind>`.
    static func isLayoutFolder(_ path: String) -> Bool {
        let segments = path.split(separator: "/")
        return segments.count < 4 || (segments.count == 4 && segments[1] == DriveLayout.missionsFolder)
    }

    /// A folder found in a listing: kept (true: its content is to be read) when the layout knows it; the archive is
    /// passed over, anything else reported.
    mutating func noteFolder(_ child: RemoteEntry, askedAt: Date, archive: String) -> Bool {
        if child.path == archive { return false }
        guard Self.isLayoutFolder(child.path) else {
            unknown.append(child.path + "/")
            return false
        }
        folders[child.path] = (child, askedAt)
        return true
    }

    /// A file found in a listing: read in NFC where the layout places it (clients on some systems write names
    /// decomposed, NFD: IO keeps their spelling); two spellings of one name are both kept, one synced, one reported.
    mutating func noteFile(_ child: RemoteEntry, known entries: [String: JournalEntry]) {
        let layoutPath = child.path.precomposedStringWithCanonicalMapping
        guard (try? DriveLayout.location(of: layoutPath)) != nil else {
            unknown.append(child.path)
            return
        }
        if let other = files[layoutPath] {
            // The same href twice in one listing (a server's repeat) is one file, not a twin of itself.
            if other.path.sameSpelling(as: child.path) { return }
            let kept = SyncEngine.twinKept(other, child, known: entries[layoutPath])
            files[layoutPath] = kept
            let left = kept.path.sameSpelling(as: child.path) ? other : child
            twins.append(NameTwin(path: left.path, synced: kept.path))
        } else {
            files[layoutPath] = child
        }
    }
}

extension SyncEngine {
    /// Lists `<slug>/dossier/<kind>/` and `<slug>/missions/<ref>/<kind>/`; anything else under the root (but the
    /// archive) is reported. On a Drive that answers whole trees and has no folder tags, each laureate's folder is one
    /// `Depth: infinity` listing; otherwise depth-1 PROPFINDs, a level at a time and `parallel` folders at once, and a
    /// folder whose tag is the one recorded when it was last in step is not listed: its files are the journal's.
    func walk(traits: DriveTraits, recorded: [String: FolderRecord], entries: [String: JournalEntry]) async throws -> DriveListing {
        if traits.listsWholeTree && traits.folderTags == .none { return try await walkTrees(entries: entries) }
        let support = traits.folderTags
        var listing = DriveListing()
        var level = [""]
        while !level.isEmpty {
            let askedAt = Date()
            listing.listed += level.count
            // Outputs come back in the folders' order: no tuple is built across the listing's await.
            let listings = try await concurrently(level, limit: options.parallel) { folder in
                try await retrying { try await drive.list(folder) }
            }
            var next: [String] = []
            for (folder, children) in zip(level, listings) {
                guard let children else { continue }  // gone since its parent was listed
                var holdsFolders = false
                for child in children {
                    guard child.isCollection else {
                        listing.noteFile(child, known: entries)
                        continue
                    }
                    holdsFolders = true
                    guard listing.noteFolder(child, askedAt: askedAt, archive: options.archiveFolder) else { continue }
                    if let record = recorded[child.path], record.leaf || support == .recursive, support != .none,
                        child.etag != nil, WebDAVClient.sameVersion(child.etag, record.etag)
                    {
                        listing.skipped[child.path] = record
                    } else {
                        next.append(child.path)
                    }
                }
                if !folder.isEmpty && !holdsFolders { listing.leaves.insert(folder) }
            }
            level = next
        }
        if !listing.skipped.isEmpty {
            let skipped = Set(listing.skipped.keys.map(\.precomposedStringWithCanonicalMapping))
            for entry in entries.values where Self.isBelow(entry.path, anyOf: skipped) {
                listing.files[entry.path] = entry.remoteEntry
            }
            for (path, record) in recorded where Self.ancestors(of: path).contains(where: listing.skipped.keys.contains) {
                listing.recordedBelowSkipped[path] = record
            }
        }
        return listing
    }

    /// The root at depth 1, then each laureate's folder in one `Depth: infinity` listing (`parallel` at once). What
    /// lies below a folder the layout does not know is reported once, as that folder.
    func walkTrees(entries: [String: JournalEntry]) async throws -> DriveListing {
        var listing = DriveListing()
        let askedAt = Date()
        var laureates: [String] = []
        for child in try await retrying({ try await drive.list("") }) ?? [] {
            if !child.isCollection {
                listing.noteFile(child, known: entries)
            } else if listing.noteFolder(child, askedAt: askedAt, archive: options.archiveFolder) {
                laureates.append(child.path)
            }
        }
        let trees = try await concurrently(laureates, limit: options.parallel) { folder in
            try await retrying { try await drive.listTree(folder) }
        }
        listing.listed = 1 + laureates.count
        for (folder, tree) in zip(laureates, trees) {
            var outside: [String] = []
            // Parents before children, whatever order the server answered in.
            for child in (tree ?? []).sorted(by: { $0.path.utf8.count < $1.path.utf8.count }) where !child.path.sameSpelling(as: folder) {
                if outside.contains(where: { Self.isBelow(child.path, anyOf: [$0]) }) { continue }
                if !child.isCollection {
                    listing.noteFile(child, known: entries)
                } else if !listing.noteFolder(child, askedAt: askedAt, archive: options.archiveFolder) {
                    outside.append(child.path)
                }
            }
        }
        return listing
    }

    /// Of two Drive files whose names read the same in NFC, the one synced: the one the journal knows, else the one
    /// spelled in NFC, else the first in byte order. The other is reported, never touched.
    static func twinKept(_ first: RemoteEntry, _ second: RemoteEntry, known: JournalEntry?) -> RemoteEntry {
        if let known {
            let spelling = known.remotePath ?? known.path
            if first.path.sameSpelling(as: spelling) { return first }
            if second.path.sameSpelling(as: spelling) { return second }
        }
        let nfc = { (entry: RemoteEntry) in entry.path.sameSpelling(as: entry.path.precomposedStringWithCanonicalMapping) }
        if nfc(first) != nfc(second) { return nfc(first) ? first : second }
        return Array(first.path.utf8).lexicographicallyPrecedes(Array(second.path.utf8)) ? first : second
    }

    /// Remembers the folders found in step, so the next run lists them only if their tag moved. A folder is in step
    /// when nothing under it was decided or left unknown, no file under it needs its content checked again, and its
    /// tag was read at least a second after its last change (a tag with one-second steps could still move unseen).
    func settle(_ drive: DriveListing, traits: DriveTraits, unsettled: Set<String>, entries: [String: JournalEntry], decided: Set<String>)
        throws
    {
        let support = traits.folderTags
        var listedDates: [String: Date] = [:]
        var unsettledPaths = unsettled
        for (path, remote) in drive.files where !decided.contains(path) {
            guard let entry = entries[path] else { continue }
            if !traits.fineFileTags && entry.isRacy(listedModified: remote.lastModified) {
                unsettledPaths.insert(path)
            } else if entry.remoteModified == nil, let listed = remote.lastModified {
                listedDates[path] = listed
            }
        }
        var records: [String: FolderRecord] = [:]
        if support != .none {
            let unsettledFolders = Set(unsettledPaths.flatMap(Self.ancestors(of:)))
            for (path, (folder, askedAt)) in drive.folders {
                guard let etag = folder.etag, let modified = folder.lastModified, askedAt >= modified.addingTimeInterval(1),
                    !unsettledFolders.contains(path.precomposedStringWithCanonicalMapping)
                else { continue }
                let leaf = drive.skipped[path]?.leaf ?? drive.leaves.contains(path)
                if leaf || support == .recursive { records[path] = FolderRecord(etag: etag, leaf: leaf) }
            }
            for (path, record) in drive.recordedBelowSkipped
            where Self.ancestors(of: path).contains(where: { drive.skipped[$0] != nil && records[$0] != nil }) {
                records[path] = record
            }
        }
        try journal.settle(folders: records, listedDates: listedDates)
    }

    /// Whether one of `folders` holds `path`, at any depth (parents first: a skipped folder is most often the parent).
    static func isBelow(_ path: String, anyOf folders: Set<String>) -> Bool {
        var end = path.endIndex
        while let slash = path[..<end].lastIndex(of: "/") {
            if folders.contains(String(path[..<slash])) { return true }
            end = slash
        }
        return false
    }

    /// "a/b/c.txt" → ["a", "a/b"]: the folders that hold a path (a file's or a folder's).
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = ""
        for segment in path.split(separator: "/").dropLast() {
            current = current.isEmpty ? String(segment) : current + "/" + segment
            result.append(current)
        }
        return result
    }
}

/// Runs `body` over `items`, at most `limit` at a time, and returns the outputs in the items' order. A child task
/// returns nothing: it stores its output in its own slot. No value crosses a suspension inside a tuple returned from a
/// child task, the shape Swift 6.3.1 miscompiles at -O (swiftlang/swift#91911, fix reverted in #92155); and an output
/// that is missing at the end is an error, never silently dropped.
func concurrently<Item: Sendable, Output: Sendable>(
    _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async throws -> Output
) async throws -> [Output] {
    let slots = Slots<Output>(count: items.count)
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        func start() {
            guard next < items.count else { return }
            let index = next
            next += 1
            group.addTask {
                let output = try await body(items[index])
                slots.store(output, at: index)
            }
        }
        for _ in 0..<max(1, limit) { start() }
        while try await group.next() != nil { start() }
    }
    return try slots.outputs()
}

/// One output per item, filled by concurrent tasks.
final class Slots<Output: Sendable>: Sendable {
    private let values: Mutex<[Output?]>

    init(count: Int) { values = Mutex(Array(repeating: nil, count: count)) }

    func store(_ output: Output, at index: Int) { values.withLock { $0[index] = output } }

    /// Every output in order; a missing one means a task ended without storing its result (a compiler or runtime
    /// fault): said loudly rather than returning fewer results than items.
    func outputs() throws -> [Output] {
        try values.withLock { values in
            guard let missing = values.firstIndex(where: { $0 == nil }) else { return values.map { $0! } }
            throw SyncError.checkFailed(path: "item \(missing) of \(values.count)", reason: "a parallel task returned no result")
        }
    }
}

/// The collections made during a run, each asked for once even when several transfers need it at the same moment.
actor Collections {
    private var made: [String: Task<Void, any Error>] = [:]

    func ensure(_ path: String, _ make: @escaping @Sendable () async throws -> Void) async throws {
        if let task = made[path] { return try await task.value }
        let task = Task { try await make() }
        made[path] = task
        do { try await task.value } catch {
            made[path] = nil
            throw error
        }
    }
}

extension String {
    /// The same bytes, not only the same text: Swift's `==` finds `café` in NFC and in NFD equal, the Drive does not.
    func sameSpelling(as other: String) -> Bool { utf8.elementsEqual(other.utf8) }

    /// Which Unicode form the name is written in, for reports: "NFC" (composed, as most clients write), else "NFD".
    public var unicodeForm: String { sameSpelling(as: precomposedStringWithCanonicalMapping) ? "NFC" : "NFD" }

    /// The path as a report line may show it: control and bidirectional-override characters (a NUL, U+202E…) written
    /// as `\u{…}` escapes, so a Drive name cannot rewrite the terminal or the line.
    public var printable: String {
        var text = ""
        for scalar in unicodeScalars {
            let value = scalar.value
            if value < 0x20 || (0x7F...0x9F).contains(value) || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) {
                text += "\\u{" + String(value, radix: 16) + "}"
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
