import Domain
import Foundation
import GRDB

/// A document as the API serves it: where it belongs, its current version, and its place on the Drive.
public struct DocumentRecord: Sendable, Hashable {
    public let id: String
    public let laureateID: String
    public let laureateSlug: String
    public let missionID: String?
    public let missionRef: String?
    public let kind: DocumentKind
    public let version: Int
    public let fileName: String
    public let mediaType: String
    public let size: Int
    public let sha256: String
    public let source: String
    public let conflict: Bool
    public let uploaderID: String
    public let revision: Int64
    public let createdAt: Date
    public let updatedAt: Date
    public let withdrawn: Bool

    /// The path under the Drive's root, by the Domain layout.
    public var drivePath: String? {
        try? DriveLayout.path(
            for: DriveLocation(laureateSlug: laureateSlug, missionRef: missionRef.flatMap(MissionRef.init), kind: kind, fileName: fileName))
    }

    init(row: Row) {
        id = row["id"]
        laureateID = row["laureate_id"]
        laureateSlug = row["laureate_slug"]
        missionID = row["mission_id"]
        missionRef = row["mission_ref"]
        kind = DocumentKind(rawValue: row["kind"]) ?? .other
        version = row["version"]
        fileName = row["file_name"]
        mediaType = row["media_type"]
        size = row["size"]
        sha256 = row["sha256"]
        source = row["source"]
        conflict = row["conflict"]
        uploaderID = row["uploader_id"]
        revision = row["revision"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        withdrawn = (row["withdrawn_at"] as Date?) != nil
    }
}

/// How a new version comes in: through the API, or pulled from the Drive by the sync service.
public enum DocumentSource: String, Sendable, Hashable {
    case api, drive
}

extension AppDatabase {
    static let documentSelect = """
        SELECT document.*, v.version, v.file_name, v.media_type, v.size, v.sha256, v.source, v.conflict, v.uploader_id,
               laureate.slug AS laureate_slug, mission.ref AS mission_ref
        FROM document
        JOIN document_version v ON v.document_id = document.id AND v.version = document.current_version
        JOIN laureate ON laureate.id = document.laureate_id
        LEFT JOIN mission ON mission.id = document.mission_id
        """

    static func owner(_ db: SQLConnection, laureateID: String, missionID: String?) throws -> (DocumentOwner, [Engagement]) {
        var cache = OwnerCache()
        return try cache.owner(db, laureateID: laureateID, missionID: missionID)
    }

    /// The facts the document access rules need, read once per mission and per laureate: the one source both a single
    /// document and the documents feed answer from. A mission's file belongs to the mission as it is now (its expert
    /// and the laureates that joined it), whichever laureate uploaded it, even one that has since left the pool.
    struct OwnerCache {
        var missions: [String: Engagement] = [:]
        var laureates: [String: [Engagement]] = [:]

        mutating func owner(_ db: SQLConnection, laureateID: String, missionID: String?) throws -> (DocumentOwner, [Engagement]) {
            let engagements = try laureates[laureateID] ?? AppDatabase.engagements(db, laureateID: laureateID)
            laureates[laureateID] = engagements
            guard let missionID else { return (.dossier(laureateID: laureateID), engagements) }
            if let engagement = missions[missionID] { return (.mission(engagement), engagements) }
            let mission = try AppDatabase.missionRecord(db, id: missionID).mission
            let engagement = Engagement(
                missionID: mission.id, title: mission.title, expertID: mission.expertID, laureateIDs: mission.joinedLaureateIDs,
                state: mission.state)
            missions[missionID] = engagement
            return (.mission(engagement), engagements)
        }

        /// Every mission's access facts in one query, for a pass over many documents (the feed) instead of two
        /// queries per mission met.
        mutating func preloadMissions(_ db: SQLConnection) throws {
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT mission.id, mission.title, mission.expert_id, mission.state,
                           (SELECT json_group_array(laureate_id) FROM
                              (SELECT laureate_id FROM mission_participant p WHERE p.mission_id = mission.id AND p.joined = 1 ORDER BY p.position)
                              AS joined_laureates)
                           AS laureates
                    FROM mission
                    """)
            {
                let id: String = row["id"]
                missions[id] = Engagement(
                    missionID: id, title: row["title"], expertID: row["expert_id"],
                    laureateIDs: try JSONDecoder().decode([String].self, from: Data((row["laureates"] as String).utf8)),
                    state: MissionState(rawValue: row["state"]) ?? .requested)
            }
        }

        /// Whether `account` may read `record`.
        mutating func canRead(_ db: SQLConnection, _ record: DocumentRecord, by account: Account) throws -> Bool {
            let (owner, engagements) = try owner(db, laureateID: record.laureateID, missionID: record.missionID)
            return DocumentAccess.canRead(account, owner, engagements: engagements)
        }
    }

    /// Refuses early (before any byte is stored) an upload the caller may not make: 404 when it may not even know
    /// the place exists, 403 when it may read but not add.
    public func checkDocumentUpload(
        laureateID: String?, missionID: String?, kind: DocumentKind, source: DocumentSource, by account: Account
    ) throws
        -> (laureateID: String, missionID: String?)
    {
        if source == .drive && account.role != .sync { throw StorageError.forbidden }
        return try engine.read { db in
            var laureate = laureateID
            if let missionID {
                let mission = try Self.missionRecord(db, id: missionID).mission
                guard Self.canSee(mission, account) else { throw StorageError.notFound }
                laureate =
                    laureate
                    ?? (account.laureateID.flatMap { mission.joinedLaureateIDs.contains($0) ? $0 : nil } ?? mission.joinedLaureateIDs.first)
            }
            guard let laureate,
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM laureate WHERE id = ?)", arguments: [laureate]) == true
            else { throw StorageError.notFound }
            if kind.isDossier != (missionID == nil) {
                throw StorageError.invalid([
                    FieldError(
                        "/kind", "kind_does_not_belong",
                        kind.isDossier ? "A dossier kind goes to a laureate." : "This kind goes to a mission.")
                ])
            }
            let (owner, engagements) = try Self.owner(db, laureateID: laureate, missionID: missionID)
            // Who can see the mission knows its files exist (403); for a dossier, who can read it (else 404).
            guard missionID != nil || DocumentAccess.canRead(account, owner, engagements: engagements) else { throw StorageError.notFound }
            guard DocumentAccess.canWrite(account, owner) else { throw StorageError.forbidden }
            return (laureate, missionID)
        }
    }

    /// A new document from a staged file, in one transaction with its first version and its audit event; the file is
    /// put in place as the transaction's last step, so a refusal leaves no file behind.
    public func addDocument(
        laureateID: String, missionID: String?, kind: DocumentKind, fileName: String, blob staged: StagedBlob, source: DocumentSource,
        conflict: Bool = false, by account: Account
    ) throws -> DocumentRecord {
        let blob = staged.stored
        let id = Self.newID()
        let now = self.now
        do {
            let place = try checkDocumentUpload(laureateID: laureateID, missionID: missionID, kind: kind, source: source, by: account)
            return try write { db in
                try db.execute(
                    sql: """
                        INSERT INTO document (id, laureate_id, mission_id, kind, current_version, revision, created_at, updated_at)
                        VALUES (?, ?, ?, ?, 1, ?, ?, ?)
                        """, arguments: [id, place.laureateID, place.missionID, kind.rawValue, try Self.nextRevision(db), now, now])
                try insertVersion(
                    db, documentID: id, version: 1, fileName: fileName, blob: blob, source: source, conflict: conflict, account: account)
                let record = try Self.documentRecord(db, id: id)
                try Self.appendEvent(
                    db, at: now, actorID: account.id, action: "document.added", subjectType: "document", subjectID: id,
                    before: String?.none, after: ["sha256": blob.sha256, "file_name": record.fileName, "kind": kind.rawValue])
                try blobs.commit(staged, in: db)
                return record
            }
        } catch {
            // A refusal after the bytes arrived leaves nothing of them.
            blobs.drop(staged)
            throw error
        }
    }

    func insertVersion(
        _ db: SQLConnection, documentID: String, version: Int, fileName: String, blob: StoredBlob, source: DocumentSource, conflict: Bool,
        account: Account
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO document_version (document_id, version, file_name, media_type, size, sha256, source, conflict, uploader_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                documentID, version, FileName.sanitised(fileName), blob.type.mediaType, blob.size, blob.sha256, source.rawValue, conflict,
                account.id, now,
            ])
    }

    static func documentRecord(_ db: SQLConnection, id: String) throws -> DocumentRecord {
        guard let row = try Row.fetchOne(db, sql: documentSelect + " WHERE document.id = ?", arguments: [id]) else {
            throw StorageError.notFound
        }
        return DocumentRecord(row: row)
    }

    /// A document, for whoever may read it; anyone else is told it does not exist.
    public func document(id: String, for account: Account) throws -> DocumentRecord {
        try engine.read { db in
            let record = try Self.documentRecord(db, id: id)
            var owners = OwnerCache()
            guard try owners.canRead(db, record, by: account) else { throw StorageError.notFound }
            return record
        }
    }

    /// Checks that `account` may add a version to `documentID`, based on the revision it read, before any byte is
    /// stored. Only the sync service marks a version as a conflict (a Drive change that met an API change).
    public func checkNewVersion(
        documentID: String, source: DocumentSource, conflict: Bool = false, by account: Account, ifRevision expected: Int64? = nil
    ) throws -> DocumentRecord {
        let record = try document(id: documentID, for: account)
        if let expected, record.revision != expected { throw StorageError.stale(current: record.revision) }
        if conflict && account.role != .sync { throw StorageError.forbidden }
        _ = try checkDocumentUpload(
            laureateID: record.laureateID, missionID: record.missionID, kind: record.kind, source: source, by: account)
        return record
    }

    /// A new version of a document, based on the revision the caller read. `conflict` marks a version that came from
    /// the Drive while the API side had changed too: both are kept, nothing is overwritten.
    public func addVersion(
        documentID: String, fileName: String?, blob staged: StagedBlob, source: DocumentSource, conflict: Bool = false,
        by account: Account, ifRevision expected: Int64?
    ) throws -> DocumentRecord {
        let blob = staged.stored
        let now = self.now
        do {
            let current = try checkNewVersion(documentID: documentID, source: source, conflict: conflict, by: account)
            return try write { db in
                let record = try Self.documentRecord(db, id: documentID)
                if let expected, record.revision != expected { throw StorageError.stale(current: record.revision) }
                guard !record.withdrawn else { throw StorageError.invalid([FieldError("", "withdrawn", "This document was withdrawn.")]) }
                let version = record.version + 1
                try insertVersion(
                    db, documentID: documentID, version: version, fileName: fileName ?? current.fileName, blob: blob, source: source,
                    conflict: conflict, account: account)
                try db.execute(
                    sql: "UPDATE document SET current_version = ?, revision = ?, updated_at = ? WHERE id = ?",
                    arguments: [version, try Self.nextRevision(db), now, documentID])
                try Self.appendEvent(
                    db, at: now, actorID: account.id, action: "document.versioned", subjectType: "document", subjectID: documentID,
                    before: ["sha256": record.sha256], after: ["sha256": blob.sha256, "version": String(version)])
                let updated = try Self.documentRecord(db, id: documentID)
                try blobs.commit(staged, in: db)
                return updated
            }
        } catch {
            // A refusal after the bytes arrived leaves nothing of them.
            blobs.drop(staged)
            throw error
        }
    }

    /// Withdraws a document: it leaves the listings as a tombstone; its versions and blobs are kept (public money).
    public func withdrawDocument(id: String, by account: Account, ifRevision expected: Int64?) throws -> DocumentRecord {
        let current = try checkNewVersion(documentID: id, source: account.role == .sync ? .drive : .api, by: account)
        let now = self.now
        return try write { db in
            let record = try Self.documentRecord(db, id: id)
            if let expected, record.revision != expected { throw StorageError.stale(current: record.revision) }
            guard !record.withdrawn else { return record }
            try db.execute(
                sql: "UPDATE document SET withdrawn_at = ?, revision = ?, updated_at = ? WHERE id = ?",
                arguments: [now, try Self.nextRevision(db), now, id])
            try Self.appendEvent(
                db, at: now, actorID: account.id, action: "document.withdrawn", subjectType: "document", subjectID: id,
                before: ["sha256": current.sha256], after: String?.none)
            return try Self.documentRecord(db, id: id)
        }
    }

    /// The blob of one version of a readable document (the current one when `version` is nil).
    public func documentContent(id: String, version: Int?, for account: Account) throws -> (
        record: DocumentRecord, sha256: String, size: Int, mediaType: String, fileName: String
    ) {
        let record = try document(id: id, for: account)
        guard let version, version != record.version else {
            return (record, record.sha256, record.size, record.mediaType, record.fileName)
        }
        return try engine.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM document_version WHERE document_id = ? AND version = ?", arguments: [id, version])
            else { throw StorageError.notFound }
            return (record, row["sha256"], row["size"], row["media_type"], row["file_name"])
        }
    }

    /// How many documents the feed reads at a time.
    static let feedPage = 256

    /// Documents the caller may read that changed after `revision`, withdrawn ones included as tombstones.
    /// `cursor` is the last revision examined (pass it back as `updatedAfter`); `more` says whether later changes exist.
    public func documents(for account: Account, updatedAfter revision: Int64, limit: Int) throws -> (
        documents: [DocumentRecord], cursor: Int64, more: Bool
    ) {
        try engine.read { db in
            var readable: [DocumentRecord] = []
            var owners = OwnerCache()
            try owners.preloadMissions(db)
            // Read in pages: most callers may read most documents, so few pages are read past the first.
            var last: Int64?
            pages: while true {
                let page = try Row.fetchAll(
                    db, sql: Self.documentSelect + " WHERE document.revision > ? ORDER BY document.revision LIMIT ?",
                    arguments: [last ?? revision, Self.feedPage])
                for row in page {
                    let record = DocumentRecord(row: row)
                    last = record.revision
                    if try owners.canRead(db, record, by: account) { readable.append(record) }
                    if readable.count == limit { break pages }
                }
                if page.count < Self.feedPage { break }
            }
            let more =
                try last.map {
                    try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM document WHERE revision > ?)", arguments: [$0]) ?? false
                } ?? false
            return (readable, max(last ?? revision, revision), more)
        }
    }
}

extension AppDatabase {
    /// Removes the blobs no document version refers to (an upload interrupted between its file and its commit) and
    /// leftover uploads (in the database store, those older than six hours). Returns how many were removed.
    public func sweepUnreferencedBlobs() throws -> Int {
        try engine.write { db in try blobs.sweep(db) }
    }
}

/// Where a listing of files stopped: the last file given, in the listing's order (kind, file name, id).
public struct FilePosition: Sendable, Hashable, Codable {
    public let kind: String
    public let fileName: String
    public let id: String

    public init(kind: String, fileName: String, id: String) {
        self.kind = kind
        self.fileName = fileName
        self.id = id
    }
}

extension AppDatabase {
    /// A laureate's dossier (`missionID` nil) or a mission's files, current versions, by kind then file name: 404 when
    /// the caller may not know the place exists, 403 when it may know it but not read its files (an expert before
    /// it agreed to discuss).
    public func files(
        laureateID: String?, missionID: String?, kind: DocumentKind?, after position: FilePosition?, limit: Int, for account: Account
    ) throws -> (documents: [DocumentRecord], more: Bool) {
        try engine.read { db in
            let owner: DocumentOwner
            let engagements: [Engagement]
            let filter: String
            let ownerID: String
            if let missionID {
                let mission = try Self.missionRecord(db, id: missionID).mission
                guard Self.canSee(mission, account) else { throw StorageError.notFound }
                (owner, engagements) = try Self.owner(db, laureateID: mission.laureateIDs.first ?? "", missionID: missionID)
                (filter, ownerID) = ("document.mission_id = ?", missionID)
            } else if let laureateID {
                guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM laureate WHERE id = ?)", arguments: [laureateID]) == true,
                    try canSeeLaureate(db, account, laureateID)
                else { throw StorageError.notFound }
                (owner, engagements) = try Self.owner(db, laureateID: laureateID, missionID: nil)
                (filter, ownerID) = ("document.laureate_id = ? AND document.mission_id IS NULL", laureateID)
            } else {
                throw StorageError.notFound
            }
            guard DocumentAccess.canRead(account, owner, engagements: engagements) else { throw StorageError.forbidden }
            let rows = try Row.fetchAll(
                db,
                sql: Self.documentSelect + """
                     WHERE \(filter) AND document.withdrawn_at IS NULL AND (CAST(? AS TEXT) IS NULL OR document.kind = ?)
                      AND (document.kind, v.file_name, document.id) > (?, ?, ?)
                    ORDER BY document.kind, v.file_name, document.id LIMIT ?
                    """,
                arguments: [
                    ownerID, kind?.rawValue, kind?.rawValue, position?.kind ?? "", position?.fileName ?? "", position?.id ?? "", limit + 1,
                ])
            return (rows.prefix(limit).map(DocumentRecord.init(row:)), rows.count > limit)
        }
    }
}
