import Crypto
import Foundation
import GRDB

/// What a backup folder holds, written last (a folder without it is not a backup): the database file and every
/// document content it refers to, each with its size and SHA-256.
public struct BackupManifest: Codable, Sendable, Hashable {
    public struct Entry: Codable, Sendable, Hashable {
        /// Path inside the backup folder.
        public var path: String
        public var bytes: Int
        public var sha256: String
    }

    public var format = 1
    /// When the copy of the database was taken (UTC, ISO 8601): every write acknowledged before is in it.
    public var takenAt: String
    public var database: Entry
    public var blobs: [Entry]
    /// Events of the audit log in the copy, its chain checked before the manifest was written.
    public var auditEvents: Int

    public static let fileName = "manifest.json"
}

public enum BackupError: Error, Sendable, Hashable, CustomStringConvertible {
    case notSQLite
    case noInstallation(String)
    case inUse(String)
    case backupTargetNotEmpty(String)
    case targetNotEmpty(String)
    case unknownFormat(Int)
    case auditCount(expected: Int, found: Int)
    case notABackup(String)
    case fileAltered(String)
    case blobMissing(String)
    case auditBroken(seq: Int64, reason: String)
    case integrity(String)

    public var description: String {
        switch self {
        case .notSQLite:
            "this installation runs on PostgreSQL: back it up with pg_dump (deploy/README.md), then check it with `mdp admin verify`"
        case .noInstallation(let path): "there is no installation here: \(path) does not exist (check DATA_DIR or --data-dir)"
        case .inUse(let path): "another mdp process (a server, or a restore) is using \(path): stop it first"
        case .backupTargetNotEmpty(let path): "\(path) is not empty: back up into a new or empty folder"
        case .targetNotEmpty(let path): "\(path) is not empty (restore with --replace to set the current data aside)"
        case .unknownFormat(let format): "this backup's format \(format) is not one this version reads (1)"
        case .auditCount(let expected, let found):
            "the restored audit log has \(found) events where the backup recorded \(expected): events are missing"
        case .notABackup(let path): "\(path) holds no readable \(BackupManifest.fileName): not a finished backup"
        case .fileAltered(let path): "\(path) does not match its size or SHA-256"
        case .blobMissing(let sha256): "the content \(sha256) is recorded but missing"
        case .auditBroken(let seq, let reason): "the audit log is broken at event \(seq): \(reason)"
        case .integrity(let detail): "the database file is damaged: \(detail)"
        }
    }
}

/// What `verifyContents` found: every recorded content read back whole and hashed.
public struct ContentsCheck: Sendable, Hashable {
    public var checked = 0
    public var bytes = 0
    /// Contents missing, or whose bytes do not hash to their name.
    public var problems: [String] = []
}

extension AppDatabase {
    /// A consistent copy of this running SQLite installation in `folder` (which must be missing or empty): the database
    /// through SQLite's online backup API (one snapshot, writers go on), then every content it refers to, each checked
    /// against its digest, then the manifest. It is built beside `folder` and renamed into place when whole.
    public func backup(to folder: URL, now: Date = Date()) throws -> BackupManifest {
        guard case .sqlite(let writer) = engine, let root = blobs.root else { throw BackupError.notSQLite }
        let manager = FileManager.default
        if manager.fileExists(atPath: folder.path) {
            guard try manager.contentsOfDirectory(atPath: folder.path).isEmpty else { throw BackupError.backupTargetNotEmpty(folder.path) }
        }
        try manager.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).partial-\(UUID().uuidString)")
        try manager.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            let copyPath = staging.appendingPathComponent("mdp.sqlite")
            let takenAt = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(now)
            let snapshot = try DatabaseQueue(path: copyPath.path)
            try writer.backup(to: snapshot)
            try snapshot.close()
            // The copy's own audit chain, read as the server would read it.
            let copied = try AppDatabase.file(inDirectory: staging.path)
            let verification = try copied.verifyAuditChain()
            copied.close()
            guard case .intact(let events) = verification else {
                if case .broken(let seq, let reason) = verification { throw BackupError.auditBroken(seq: seq, reason: reason) }
                throw BackupError.integrity("audit")
            }
            let copy = try DatabaseQueue(path: copyPath.path)
            let (digests, check) = try copy.writeWithoutTransaction { db in
                // One self-contained file, no write-ahead log beside it.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                let digests = try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM document_version ORDER BY sha256")
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                return (digests, check)
            }
            try copy.close()
            guard check == ["ok"] else { throw BackupError.integrity(check.prefix(3).joined(separator: "; ")) }
            for leftover in ["mdp.sqlite-wal", "mdp.sqlite-shm", "blobs/tmp"] {
                try? manager.removeItem(at: staging.appendingPathComponent(leftover))
            }
            var entries: [BackupManifest.Entry] = []
            for sha256 in digests {
                let relative = "blobs/\(sha256.prefix(2))/\(sha256)"
                let source = root.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
                guard manager.fileExists(atPath: source.path) else { throw BackupError.blobMissing(sha256) }
                let (bytes, digest) = try Self.copyHashing(source, to: staging.appendingPathComponent(relative))
                guard digest == sha256 else { throw BackupError.fileAltered(source.path) }
                entries.append(.init(path: relative, bytes: bytes, sha256: digest))
            }
            let (bytes, digest) = try Self.hash(copyPath)
            let manifest = BackupManifest(
                takenAt: takenAt, database: .init(path: "mdp.sqlite", bytes: bytes, sha256: digest), blobs: entries,
                auditEvents: events)
            try Self.writeDurably(try Self.encoder.encode(manifest), to: staging.appendingPathComponent(BackupManifest.fileName))
            // One atomic rename, which fails when another backup took the name meanwhile (an empty folder is replaced).
            guard rename(staging.path, folder.path) == 0 else {
                throw errno == ENOTEMPTY || errno == EEXIST ? BackupError.backupTargetNotEmpty(folder.path) : CocoaError(.fileWriteUnknown)
            }
            return manifest
        } catch {
            try? manager.removeItem(at: staging)
            throw error
        }
    }

    /// Reads back every recorded content (on either store) and checks its size and digest.
    public func verifyContents() async throws -> ContentsCheck {
        let recorded = try engine.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, max(size) AS size FROM document_version GROUP BY sha256 ORDER BY sha256")
                .map { (sha256: $0["sha256"] as String, size: $0["size"] as Int) }
        }
        var check = ContentsCheck()
        for blob in recorded {
            check.checked += 1
            guard blob.size >= 0, try blobs.isStored(blob.sha256) else {
                check.problems.append("\(blob.sha256): missing")
                continue
            }
            var hasher = SHA256()
            var size = 0
            do {
                for try await chunk in try await blobs.contents(of: blob.sha256, range: 0..<blob.size) {
                    chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                    size += chunk.count
                }
            } catch {
                check.problems.append("\(blob.sha256): unreadable")
                continue
            }
            check.bytes += size
            let digest = Self.hex(hasher.finalize())
            if digest != blob.sha256 || size != blob.size { check.problems.append("\(blob.sha256): altered") }
        }
        return check
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// Copies `source` to `destination` (through a temporary name), returning its size and SHA-256.
    static func copyHashing(_ source: URL, to destination: URL) throws -> (Int, String) {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = destination.appendingPathExtension("partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let input = try FileHandle(forReadingFrom: source)
        defer { try? input.close() }
        let output = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var bytes = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += chunk.count
            try output.write(contentsOf: chunk)
        }
        try output.synchronize()
        try output.close()
        guard rename(temporary.path, destination.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        return (bytes, hex(hasher.finalize()))
    }

    static func hash(_ file: URL) throws -> (Int, String) {
        let input = try FileHandle(forReadingFrom: file)
        defer { try? input.close() }
        var hasher = SHA256()
        var bytes = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            bytes += chunk.count
        }
        return (bytes, hex(hasher.finalize()))
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    static func writeDurably(_ data: Data, to file: URL) throws {
        let temporary = file.appendingPathExtension("partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let output = try FileHandle(forWritingTo: temporary)
        try output.write(contentsOf: data)
        try output.synchronize()
        try output.close()
        guard rename(temporary.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}

/// What a restore did.
public struct RestoreReport: Sendable, Hashable {
    public var auditEvents: Int
    public var blobs: Int
    public var bytes: Int
    /// Where the data that was in the target went (with `replacing`: a hidden folder inside it), nil when it was empty.
    public var setAside: String?
}

extension AppDatabase {
    /// Restores the backup in `backup` as the SQLite installation in `dataDirectory`. Every file is checked against the
    /// manifest, the restored database opened (brought up to this version's migrations), its audit chain (as long as
    /// the manifest says) and every content's digest verified, all in a hidden folder of the target; only then is it
    /// moved into place. A target that holds anything is refused unless `replacing`, and then set aside inside it,
    /// never deleted; a target a running `mdp serve` holds is refused.
    public static func restore(from backup: URL, into dataDirectory: URL, replacing: Bool, now: Date = Date()) async throws
        -> RestoreReport
    {
        let manager = FileManager.default
        let manifestFile = backup.appendingPathComponent(BackupManifest.fileName)
        guard let data = manager.contents(atPath: manifestFile.path) else { throw BackupError.notABackup(backup.path) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let manifest = try? decoder.decode(BackupManifest.self, from: data) else { throw BackupError.notABackup(backup.path) }
        guard manifest.format == 1 else { throw BackupError.unknownFormat(manifest.format) }
        // Everything happens inside the target folder (the service's own, often in a folder it may not write to):
        // the restore is built in a hidden folder there, and what it replaces is set aside in another.
        func present() throws -> [String] {
            guard manager.fileExists(atPath: dataDirectory.path) else { return [] }
            return try manager.contentsOfDirectory(atPath: dataDirectory.path).filter {
                !$0.hasPrefix(Self.setAsidePrefix) && !$0.hasPrefix(Self.restoringPrefix) && $0 != InstallationLock.fileName
            }
        }
        let occupied = try !present().isEmpty
        if occupied && !replacing { throw BackupError.targetNotEmpty(dataDirectory.path) }
        let made = !manager.fileExists(atPath: dataDirectory.path)
        try manager.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        // The folder's lock for the whole restore: a server running refuses it, and a server starting meanwhile is refused.
        let lock = try InstallationLock.acquire(dataDirectory: dataDirectory.path)
        defer { withExtendedLifetime(lock) {} }
        // What a restore killed half-way left (nothing of it was moved into place).
        for name in try manager.contentsOfDirectory(atPath: dataDirectory.path) where name.hasPrefix(Self.restoringPrefix) {
            try? manager.removeItem(at: dataDirectory.appendingPathComponent(name))
        }
        let staging = dataDirectory.appendingPathComponent(Self.restoringPrefix + UUID().uuidString)
        try manager.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            for entry in [manifest.database] + manifest.blobs {
                // Paths come from a file: only the shapes a backup writes are followed.
                let shape = entry.path == "mdp.sqlite" || Self.isBlobPath(entry.path)
                guard shape else { throw BackupError.fileAltered(entry.path) }
                let source = backup.appendingPathComponent(entry.path)
                guard manager.fileExists(atPath: source.path) else { throw BackupError.fileAltered(entry.path) }
                let (bytes, digest) = try copyHashing(source, to: staging.appendingPathComponent(entry.path))
                guard bytes == entry.bytes, digest == entry.sha256 else { throw BackupError.fileAltered(entry.path) }
            }
            let restored = try AppDatabase.file(inDirectory: staging.path)
            let verification = try restored.verifyAuditChain()
            let contents = try await restored.verifyContents()
            restored.close()
            guard case .intact(let events) = verification else {
                if case .broken(let seq, let reason) = verification { throw BackupError.auditBroken(seq: seq, reason: reason) }
                throw BackupError.integrity("audit")
            }
            if let problem = contents.problems.first { throw BackupError.fileAltered(problem) }
            guard events == manifest.auditEvents else { throw BackupError.auditCount(expected: manifest.auditEvents, found: events) }
            var setAside: String?
            let current = try present()
            if !current.isEmpty {
                let stamp = Date.ISO8601FormatStyle().format(now).replacingOccurrences(of: ":", with: "")
                let aside = dataDirectory.appendingPathComponent(Self.setAsidePrefix + stamp + "-" + UUID().uuidString.prefix(8))
                try manager.createDirectory(at: aside, withIntermediateDirectories: false)
                for name in current {
                    try manager.moveItem(at: dataDirectory.appendingPathComponent(name), to: aside.appendingPathComponent(name))
                }
                setAside = aside.path
            }
            for name in try manager.contentsOfDirectory(atPath: staging.path) {
                try manager.moveItem(at: staging.appendingPathComponent(name), to: dataDirectory.appendingPathComponent(name))
            }
            try manager.removeItem(at: staging)
            return RestoreReport(auditEvents: events, blobs: contents.checked, bytes: contents.bytes, setAside: setAside)
        } catch {
            try? manager.removeItem(at: staging)
            // A folder made for this restore is not left behind.
            if made, Set((try? manager.contentsOfDirectory(atPath: dataDirectory.path)) ?? ["?"]).isSubset(of: [InstallationLock.fileName])
            {
                try? manager.removeItem(at: dataDirectory)
            }
            throw error
        }
    }

    /// Folders a restore leaves in the data folder: the data it replaced, and (while it runs) the restore itself.
    static let setAsidePrefix = ".before-restore-"
    static let restoringPrefix = ".restoring-"

    /// `blobs/<two hex>/<64 hex starting with them>`.
    static func isBlobPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let hex = { (text: Substring) in text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } }
        return parts.count == 3 && parts[0] == "blobs" && parts[1].count == 2 && parts[2].count == 64 && hex(parts[1]) && hex(parts[2])
            && parts[2].hasPrefix(parts[1])
    }
}
