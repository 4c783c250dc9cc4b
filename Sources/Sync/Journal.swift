import Domain
import Foundation
import GRDB

/// What the engine last saw in sync for one Drive path: the document and version on the API side, the remote entity
/// tag on the Drive side, and the SHA-256 both had then.
public struct JournalEntry: Sendable, Hashable {
    public let path: String
    public let documentID: String?
    public let version: Int?
    public let sha256: String
    public let remoteETag: String?
    public let size: Int
    /// The remote file's last modification as listed when this entry was written.
    public let remoteModified: Date?
    /// When this entry was written.
    public let checkedAt: Date
    /// The Drive's own spelling of the path when it differs from `path` (a name written decomposed, NFD).
    public let remotePath: String?

    public init(
        path: String, documentID: String?, version: Int?, sha256: String, remoteETag: String?, size: Int, remoteModified: Date?,
        checkedAt: Date = Date(), remotePath: String? = nil
    ) {
        self.path = path
        // Compared byte for byte: a decomposed (NFD) spelling equals its NFC path for Swift's `==`, not for the Drive.
        self.remotePath = remotePath.map { $0.sameSpelling(as: path) } == true ? nil : remotePath
        self.documentID = documentID
        self.version = version
        self.sha256 = sha256
        self.remoteETag = remoteETag
        self.size = size
        self.remoteModified = remoteModified
        self.checkedAt = checkedAt
    }

    /// Like git's racily clean index entries: a file checked during the second it was last written may change again
    /// in that same second without its tag, size or date moving (wsgidav's tag is inode-mtime-size, dates have
    /// one-second steps). Its content is verified once more on the next run; once that second is over, never again.
    /// `listedModified` is the date the Drive lists now, used when the entry has none of its own (after a push).
    /// The rule compares the client's clock with the server's: they are assumed in step (NTP).
    public func isRacy(listedModified: Date?) -> Bool {
        guard let modified = remoteModified ?? listedModified else { return true }
        return checkedAt < modified.addingTimeInterval(1)
    }

    /// The Drive entry this journal entry stands for, when its folder was not listed again (its tag did not move).
    var remoteEntry: RemoteEntry {
        RemoteEntry(
            path: remotePath ?? path, isCollection: false, etag: remoteETag, length: size, lastModified: remoteModified, checksums: [:])
    }
}

/// The engine's own SQLite file: the last in-sync state per path, the API feed's cursor and the API side's mirror.
/// Each file's outcome is written in one transaction after it succeeded, so a run killed anywhere resumes cleanly.
public struct Journal: Sendable {
    let queue: DatabaseQueue

    public init(path: String) throws {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-27 journal") { db in
            try db.execute(
                sql: """
                    CREATE TABLE entry (
                        path TEXT PRIMARY KEY NOT NULL,
                        document_id TEXT,
                        version INTEGER,
                        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                        remote_etag TEXT,
                        size INTEGER NOT NULL,
                        remote_modified REAL,
                        checked_at REAL NOT NULL
                    );
                    CREATE TABLE mirror (
                        id TEXT PRIMARY KEY NOT NULL,
                        document TEXT NOT NULL CHECK (json_valid(document))
                    );
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    CREATE TABLE intent (
                        path TEXT PRIMARY KEY NOT NULL,
                        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                        size INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("2026-11-27 folder tags") { db in
            try db.execute(
                sql: """
                    ALTER TABLE entry ADD COLUMN remote_path TEXT;
                    CREATE TABLE folder (
                        path TEXT PRIMARY KEY NOT NULL,
                        etag TEXT NOT NULL,
                        leaf INTEGER NOT NULL CHECK (leaf IN (0, 1))
                    );
                    """)
        }
        migrator.registerMigration("2026-11-27 mirror in columns") { db in
            // The mirror is a copy of the API side: rebuilt from the start of the feed, read without decoding JSON.
            try db.execute(
                sql: """
                    DROP TABLE mirror;
                    CREATE TABLE mirror (
                        id TEXT PRIMARY KEY NOT NULL,
                        laureate_id TEXT NOT NULL,
                        laureate_slug TEXT NOT NULL,
                        mission_id TEXT,
                        mission_ref TEXT,
                        kind TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        file_name TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        revision INTEGER NOT NULL,
                        withdrawn INTEGER NOT NULL CHECK (withdrawn IN (0, 1)),
                        drive_path TEXT
                    );
                    DELETE FROM meta WHERE key = 'cursor';
                    """)
        }
        migrator.registerMigration("2026-11-29 intent names its version") { db in
            try db.execute(sql: "ALTER TABLE intent ADD COLUMN document_id TEXT; ALTER TABLE intent ADD COLUMN version INTEGER")
        }
        try migrator.migrate(queue)
    }

    public func entries() throws -> [String: JournalEntry] {
        try queue.read { db in
            var entries: [String: JournalEntry] = [:]
            entries.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM entry") ?? 0)
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.entryColumns) FROM entry")
            while let row = try rows.next() {
                let entry = Self.entry(row)
                entries[entry.path] = entry
            }
            return entries
        }
    }

    public func entry(_ path: String) throws -> JournalEntry? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.entryColumns) FROM entry WHERE path = ?", arguments: [path]).map(Self.entry)
        }
    }

    private static let entryColumns = "path, document_id, version, sha256, remote_etag, size, remote_modified, checked_at, remote_path"

    /// A row of `entryColumns`, read by position (tens of thousands per run).
    private static func entry(_ row: Row) -> JournalEntry {
        JournalEntry(
            path: row[0], documentID: row[1], version: row[2], sha256: row[3], remoteETag: row[4], size: row[5],
            remoteModified: (row[6] as Double?).map(Date.init(timeIntervalSince1970:)), checkedAt: Date(timeIntervalSince1970: row[7]),
            remotePath: row[8])
    }

    public func record(_ entry: JournalEntry) throws {
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO entry
                        (path, document_id, version, sha256, remote_etag, size, remote_modified, checked_at, remote_path)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.path, entry.documentID, entry.version, entry.sha256, entry.remoteETag, entry.size,
                    entry.remoteModified?.timeIntervalSince1970, entry.checkedAt.timeIntervalSince1970, entry.remotePath,
                ])
            try db.execute(sql: "DELETE FROM intent WHERE path = ?", arguments: [entry.path])
        }
    }

    /// Written before a PUT: if the run dies mid-upload, the next one knows a partial file there is its own.
    public func intend(_ path: String, sha256: String, size: Int, documentID: String? = nil, version: Int? = nil) throws {
        try queue.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO intent (path, sha256, size, document_id, version) VALUES (?, ?, ?, ?, ?)",
                arguments: [path, sha256, size, documentID, version])
        }
    }

    /// The Drive refused the upload outright (412): nothing of ours is there.
    public func dropIntent(_ path: String) throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM intent WHERE path = ?", arguments: [path]) }
    }

    /// The uploads that started and did not finish, by path.
    public func intents() throws -> [String: UploadIntent] {
        try queue.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT * FROM intent").map {
                    (
                        $0["path"],
                        UploadIntent(sha256: $0["sha256"], size: $0["size"], documentID: $0["document_id"], version: $0["version"])
                    )
                })
        }
    }

    public func forget(_ path: String) throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM entry WHERE path = ?", arguments: [path]) }
    }

    /// The folders whose listing is known to be in the journal, by path: their tag when they were last listed, and
    /// whether they held no folder then (a leaf).
    public func folders() throws -> [String: FolderRecord] {
        try queue.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT path, etag, leaf FROM folder").map {
                    ($0["path"], FolderRecord(etag: $0["etag"], leaf: $0["leaf"]))
                })
        }
    }

    /// The end of a run, in one transaction: the folders now known in step replace the old ones, and entries left
    /// without a date of their own (written after a push) take the date the Drive listed.
    public func settle(folders: [String: FolderRecord], listedDates: [String: Date]) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM folder")
            for (path, record) in folders {
                try db.execute(
                    sql: "INSERT INTO folder (path, etag, leaf) VALUES (?, ?, ?)", arguments: [path, record.etag, record.leaf])
            }
            for (path, date) in listedDates {
                try db.execute(
                    sql: "UPDATE entry SET remote_modified = ? WHERE path = ? AND remote_modified IS NULL",
                    arguments: [date.timeIntervalSince1970, path])
            }
        }
    }

    /// A value the engine keeps between runs (what the Drive was found to do, for one).
    public func meta(_ key: String) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    /// This journal's own name, made once: the prefix of the uploads its runs leave waiting on the Drive, so that a
    /// later run of the same journal (one at a time, see `JournalLock`) knows any such upload for a dead run's.
    public func identity() throws -> String {
        try queue.write { db in
            if let known = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity'") { return known }
            let made = String(UUID().uuidString.lowercased().prefix(13)).replacingOccurrences(of: "-", with: "")
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('identity', ?)", arguments: [made])
            return made
        }
    }

    /// The API side as last read: every document by id, and the feed cursor it was read to.
    public func mirror() throws -> (documents: [String: FeedDocument], cursor: Int64) {
        try queue.read { db in
            var documents: [String: FeedDocument] = [:]
            documents.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM mirror") ?? 0)
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, laureate_id, laureate_slug, mission_id, mission_ref, kind, version, file_name, size, sha256, revision,
                           withdrawn, drive_path
                    FROM mirror
                    """)
            while let row = try rows.next() {
                let document = FeedDocument(
                    id: row[0], laureateId: row[1], laureateSlug: row[2], missionId: row[3], missionRef: row[4],
                    kind: DocumentKind(rawValue: row[5]) ?? .other,
                    version: row[6], fileName: row[7], size: row[8], sha256: row[9], revision: row[10], withdrawn: row[11],
                    drivePath: row[12])
                documents[document.id] = document
            }
            let cursor = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'cursor'").flatMap { Int64($0) } ?? 0
            return (documents, cursor)
        }
    }

    /// Applies a page of the feed to the mirror and moves the cursor, in one transaction.
    public func applyFeed(_ documents: [FeedDocument], cursor: Int64) throws {
        try queue.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO mirror (id, laureate_id, laureate_slug, mission_id, mission_ref, kind, version, file_name,
                        size, sha256, revision, withdrawn, drive_path)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for document in documents {
                try insert.execute(arguments: [
                    document.id, document.laureateId, document.laureateSlug, document.missionId, document.missionRef,
                    document.kind.rawValue,
                    document.version, document.fileName, document.size, document.sha256, document.revision, document.withdrawn,
                    document.drivePath,
                ])
            }
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?)", arguments: [String(cursor)])
        }
    }
}

/// A folder listed in step: its tag then, and whether it held no folder (a leaf).
public struct FolderRecord: Sendable, Hashable {
    public let etag: String
    public let leaf: Bool

    public init(etag: String, leaf: Bool) {
        self.etag = etag
        self.leaf = leaf
    }
}

/// An upload that started: which bytes were going up (a version of a document), so that a file left there can be
/// recognised as the engine's own by its bytes, even once the document has moved on to another version or name.
public struct UploadIntent: Sendable, Hashable {
    public let sha256: String
    public let size: Int
    /// Nil for intents written before versions were recorded (only the SHA-256 is known then).
    public let documentID: String?
    public let version: Int?
}
