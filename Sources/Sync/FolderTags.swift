import Foundation

/// What a Drive's folder tags say about what is inside. Found per server by a probe, since WebDAV leaves it open:
/// Apache mod_dav moves a folder's tag when a file directly inside is added, replaced or removed (not deeper);
/// Nextcloud moves every ancestor's; wsgidav gives folders no tag at all.
public enum FolderTagSupport: String, Sendable, Codable {
    /// No usable folder tags: every folder is listed on every run.
    case none
    /// A folder's tag moves when a file directly inside changes: unchanged folders holding only files are not listed.
    case direct
    /// A folder's tag moves when anything below changes: unchanged folders are not listed, whatever they hold.
    case recursive
}

extension SyncEngine {
    /// What the journal remembers of this Drive's folder tags, probed again once a day or for another server. A dry
    /// run never writes, so without a remembered answer it walks everything.
    func folderTagSupport() async -> FolderTagSupport {
        struct Remembered: Codable {
            let server: String
            let support: FolderTagSupport
            let probedAt: Date
        }
        let key = "folder_tags"
        if let text = try? journal.meta(key), let remembered = try? JSONDecoder().decode(Remembered.self, from: Data(text.utf8)),
            remembered.server == drive.base.absoluteString, remembered.probedAt.timeIntervalSinceNow > -86_400
        {
            return remembered.support
        }
        if options.dryRun { return .none }
        do {
            let support = try await probeFolderTags()
            let remembered = Remembered(server: drive.base.absoluteString, support: support, probedAt: Date())
            try journal.setMeta(key, String(decoding: try JSONEncoder().encode(remembered), as: UTF8.self))
            return support
        } catch {
            // The probe could not finish (a read-only archive folder, a fault): list everything this time.
            options.progress?("folder tags not probed (\(error)): every folder is listed")
            return .none
        }
    }

    /// Writes, replaces and removes a file two folders down in a probe folder under the archive (which the walk never
    /// lists), reading both folders' tags after each step. Probe folders left by a killed run are removed first.
    func probeFolderTags() async throws -> FolderTagSupport {
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

        func tags() async throws -> (outer: String?, inner: String?) {
            let outerTag = try await retrying { try await drive.propfind(outer, depth: 0) }?.first?.etag
            let innerTag = try await retrying { try await drive.propfind(inner, depth: 0) }?.first?.etag
            return (outerTag, innerTag)
        }
        var seen = [try await tags()]
        try Data("probe 1\n".utf8).write(to: scratch)
        _ = try await retrying { try await drive.put(file, file: scratch, precondition: .create) }
        seen.append(try await tags())
        try Data("probe 2\n".utf8).write(to: scratch)  // the same size: only the content moves
        _ = try await retrying { try await drive.put(file, file: scratch, precondition: .ownProbe) }
        seen.append(try await tags())
        try await retrying { try await drive.delete(file) }
        seen.append(try await tags())
        try? await drive.delete(outer + "/")
        return Self.support(fromTags: seen)
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
}
