import Foundation

/// What a Drive's folder tags say about what is inside. Found per server by a probe, since WebDAV leaves it open:
/// Apache mod_dav moves a folder's tag when a file directly inside is added, replaced or removed (not deeper);
/// Nextcloud moves every ancestor's; wsgidav and `rclone serve webdav` give folders no usable tag.
public enum FolderTagSupport: String, Sendable, Codable {
    /// No usable folder tags: every folder is listed on every run.
    case none
    /// A folder's tag moves when a file directly inside changes: unchanged folders holding only files are not listed.
    case direct
    /// A folder's tag moves when anything below changes: unchanged folders are not listed, whatever they hold.
    case recursive
}

/// What a Drive was found to do where WebDAV leaves servers free. The engine never assumes what it has not probed:
/// `rclone serve webdav`, for one, answers 201 to a PUT with `If-None-Match: *` or a stale `If-Match`, and overwrites.
public struct DriveTraits: Sendable, Codable, Equatable {
    public var folderTags: FolderTagSupport
    /// A PUT with `If-None-Match: *` over an existing file, or with an `If-Match` naming another version, is refused
    /// (412). Without it, a file is never PUT where someone may have written: see `SyncEngine.push`.
    public var honoursPreconditions: Bool
    /// A MOVE with `Overwrite: F` onto an existing file is refused (412).
    public var refusesMoveOverwrite: Bool
    /// A MOVE lands exactly on a destination named with `DriveTraits.plainCharacters` (accents, spaces, `+`, `#`, `%`…).
    /// wsgidav, for one, reads a `?` in a Destination as the start of a query and lands the file under a shorter name.
    public var movesPlainNames: Bool
    /// A same-size rewrite in the same second moves a file's tag (a content hash, or dates finer than the second, as
    /// Apache's microseconds or rclone's nanoseconds). With coarser tags (wsgidav: inode, whole seconds, size) a file
    /// checked in the second of its last write is read again once that second is over.
    public var fineFileTags: Bool
    /// A PROPFIND with `Depth: infinity` answers a whole tree: on a Drive without folder tags, each laureate's folder
    /// is then listed in one request instead of one per folder.
    public var listsWholeTree: Bool

    public init(
        folderTags: FolderTagSupport, honoursPreconditions: Bool, refusesMoveOverwrite: Bool, movesPlainNames: Bool, fineFileTags: Bool,
        listsWholeTree: Bool
    ) {
        self.folderTags = folderTags
        self.honoursPreconditions = honoursPreconditions
        self.refusesMoveOverwrite = refusesMoveOverwrite
        self.movesPlainNames = movesPlainNames
        self.fineFileTags = fineFileTags
        self.listsWholeTree = listsWholeTree
    }

    /// What is assumed of a Drive that could not be probed: nothing.
    public static let unknown = DriveTraits(
        folderTags: .none, honoursPreconditions: false, refusesMoveOverwrite: false, movesPlainNames: false, fineFileTags: false,
        listsWholeTree: false)

    /// Whether the engine can write without ever landing on bytes someone else wrote: by preconditions, or by
    /// uploading under a name of its own and moving it into place without overwriting.
    public var canWriteSafely: Bool { honoursPreconditions || refusesMoveOverwrite }

    /// Whether a new file at `path` goes up under a name of the engine's own and is moved into place after the second
    /// of its upload (tags by the second, `Overwrite: F` honoured, a name the Drive was seen to move to): its tag then
    /// tells any later write, see `DriveClock`. Other files are PUT in place and read back once on the next run.
    public func landsAfterItsSecond(_ path: String) -> Bool {
        !fineFileTags && refusesMoveOverwrite && movesPlainNames && Self.isPlain(path)
    }

    /// Letters and digits of any script (with their combining marks), and these: what the probe moves a file to.
    public static let plainPunctuation = " -_.,()'+!@&=~#%"
    static let plainCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: plainPunctuation + "/"))

    /// Whether `path` is made of plain characters only.
    public static func isPlain(_ path: String) -> Bool {
        path.unicodeScalars.allSatisfy { plainCharacters.contains($0) }
    }
}

extension SyncEngine {
    /// What the journal remembers of this Drive, probed again once a day or for another server. A dry run never
    /// writes, so without a remembered answer it assumes nothing (and walks everything).
    func driveTraits() async -> DriveTraits {
        struct Remembered: Codable {
            let server: String
            let traits: DriveTraits
            let probedAt: Date
        }
        let key = "drive_traits"
        if let text = try? journal.meta(key), let remembered = try? JSONDecoder().decode(Remembered.self, from: Data(text.utf8)),
            remembered.server == drive.base.absoluteString, remembered.probedAt.timeIntervalSinceNow > -86_400
        {
            return remembered.traits
        }
        if options.dryRun { return .unknown }
        do {
            let traits = try await probeDrive()
            let remembered = Remembered(server: drive.base.absoluteString, traits: traits, probedAt: Date())
            try journal.setMeta(key, String(decoding: try JSONEncoder().encode(remembered), as: UTF8.self))
            options.progress?(traits.summary)
            return traits
        } catch {
            // The probe could not finish (a read-only archive folder, a fault): nothing is assumed this time.
            options.progress?("the Drive was not probed (\(error)): every folder is listed, nothing is written")
            return .unknown
        }
    }

    /// In a probe folder under the archive (which the walk never lists): writes, replaces and removes a file two
    /// folders down, reading both folders' tags after each step; then tries the preconditions the engine relies on,
    /// on files of its own. Probe folders left by a killed run are removed first.
    func probeDrive() async throws -> DriveTraits {
        let archive = options.archiveFolder
        try await retrying { try await drive.makeCollection(archive) }
        for leftover in try await retrying({ try await drive.list(archive) }) ?? [] where leftover.path.contains("/.mdp-probe-") {
            try? await drive.delete(leftover.path + "/")
        }
        let outer = "\(archive)/.mdp-probe-\(UUID().uuidString.lowercased())"
        let inner = outer + "/inner"
        let file = inner + "/probe.txt"
        try await retrying { try await drive.makeCollection(outer) }
        try await retrying { try await drive.makeCollection(inner) }
        let scratch = scratchFile()
        defer { try? FileManager.default.removeItem(at: scratch) }
        func write(_ text: String, to path: String, _ precondition: WebDAVClient.Precondition) async throws -> Bool {
            try Data(text.utf8).write(to: scratch)
            do {
                _ = try await retrying { try await drive.put(path, file: scratch, precondition: precondition) }
                return true
            } catch WebDAVError.preconditionFailed {
                return false
            }
        }
        func tags() async throws -> (outer: String?, inner: String?) {
            let outerTag = try await retrying { try await drive.propfind(outer, depth: 0) }?.first?.etag
            let innerTag = try await retrying { try await drive.propfind(inner, depth: 0) }?.first?.etag
            return (outerTag, innerTag)
        }
        func fileEntry() async throws -> RemoteEntry? { try await retrying { try await drive.propfind(file, depth: 0) }?.first }

        var seen = [try await tags()]
        _ = try await write("probe 1\n", to: file, .ownFile)
        seen.append(try await tags())
        _ = try await write("probe 2\n", to: file, .ownFile)  // the same size: only the content moves
        seen.append(try await tags())
        try await retrying { try await drive.delete(file) }
        seen.append(try await tags())

        // File tags: two same-size writes in one listed second (tried again when they fell in two seconds).
        var fineFileTags = false
        for attempt in 0..<3 {
            _ = try await write("tag \(attempt) a\n", to: file, .ownFile)
            let first = try await fileEntry()
            _ = try await write("tag \(attempt) b\n", to: file, .ownFile)
            let second = try await fileEntry()
            if let fine = Self.tagsAreFine(first, second) {
                fineFileTags = fine
                break
            }
        }

        // Preconditions, on the probe's own files: a create over an existing file, a replacement naming another version.
        let createRefused = !(try await write("probe 4\n", to: file, .create))
        let staleRefused = !(try await write("probe 5\n", to: file, .replace(etag: "\"mdp-probe-not-this-version\"")))
        let other = inner + "/other.txt"
        _ = try await write("other\n", to: other, .ownFile)
        let moveRefused: Bool
        do {
            try await retrying { try await drive.move(other, to: file) }
            moveRefused = false
        } catch WebDAVError.preconditionFailed {
            moveRefused = true
        }
        // A MOVE to a name of plain characters, accents and punctuation included: it must land there, and only there.
        let plain = inner + "/mdp é" + DriveTraits.plainPunctuation + ".txt"
        let movesPlainNames: Bool
        if moveRefused {
            try? await drive.move(other, to: plain)
            let landed = try await retrying { try await drive.propfind(plain, depth: 0) }?.first
            let left = try await retrying { try await drive.propfind(other, depth: 0) }?.first
            let listed = try await retrying { try await drive.list(inner) } ?? []
            movesPlainNames = landed != nil && left == nil && listed.count == 2  // probe.txt and the moved file
        } else {
            movesPlainNames = false
        }
        // A whole tree in one listing: the file two folders down must be in it.
        let tree = try? await drive.listTree(outer)
        let listsWholeTree = tree?.contains { $0.path.sameSpelling(as: file) } ?? false
        try? await drive.delete(outer + "/")
        return DriveTraits(
            folderTags: Self.support(fromTags: seen), honoursPreconditions: createRefused && staleRefused,
            refusesMoveOverwrite: moveRefused, movesPlainNames: movesPlainNames, fineFileTags: fineFileTags, listsWholeTree: listsWholeTree)
    }

    /// Every step must have moved the tag: the inner folder's for `direct`, the outer's as well for `recursive`.
    static func support(fromTags seen: [(outer: String?, inner: String?)]) -> FolderTagSupport {
        func movesEachTime(_ tags: [String?]) -> Bool {
            guard tags.allSatisfy({ $0 != nil }) else { return false }
            return zip(tags, tags.dropFirst()).allSatisfy { !WebDAVClient.sameVersion($0, $1) }
        }
        guard movesEachTime(seen.map(\.inner)) else { return .none }
        return movesEachTime(seen.map(\.outer)) ? .recursive : .direct
    }

    /// Two writes of the same size within the same listed second: fine only if the tag moved. Writes that fell in two
    /// seconds prove nothing (nil: try again); without tags or dates, tags are not fine.
    static func tagsAreFine(_ first: RemoteEntry?, _ second: RemoteEntry?) -> Bool? {
        guard let first, let second, let before = first.etag, let after = second.etag, let date = first.lastModified,
            let later = second.lastModified
        else { return false }
        guard date == later else { return nil }
        return !WebDAVClient.sameVersion(before, after)
    }
}

extension DriveTraits {
    /// One line for the progress output and the report.
    public var summary: String {
        let writes =
            honoursPreconditions
            ? "honours If-Match / If-None-Match"
                + (landsAfterItsSecond("") ? ", new files moved into place after the second of their upload" : "")
            : refusesMoveOverwrite
                ? "ignores If-Match / If-None-Match: files are uploaded under a name of the engine's own, moved into place without overwriting, and a replaced file is archived first"
                : "honours neither preconditions nor Overwrite: F: nothing is written to it"
        return
            "Drive probed: folder tags \(folderTags.rawValue), file tags \(fineFileTags ? "fine" : "by the second"), \(listsWholeTree ? "whole trees listed at once" : "listed a folder at a time"), \(writes)"
    }
}
