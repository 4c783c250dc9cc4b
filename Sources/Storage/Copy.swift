import Crypto
import Foundation
import GRDB

/// What a copy moved and what it checked on arrival.
public struct CopyReport: Sendable, Hashable {
    /// Rows copied, by table.
    public var rows: [String: Int] = [:]
    /// Document contents copied, and their bytes.
    public var blobs = 0
    public var bytes = 0
    /// Events of the audit chain, verified on arrival.
    public var events = 0
}

/// Why a copy was refused or did not verify.
public enum CopyError: Error, Hashable, CustomStringConvertible {
    case sourceNotSQLite
    case targetNotEmpty
    case unknownTable(String)
    case blobMissing(String)
    case blobAltered(String)
    case sourceChainBroken(seq: Int64, reason: String)
    case chainBroken(seq: Int64, reason: String)
    case mismatch(table: String)

    public var description: String {
        switch self {
        case .sourceNotSQLite: "the source of a copy is an SQLite installation (a data folder)"
        case .targetNotEmpty: "the target database already holds data: copy into an empty database"
        case .unknownTable(let name): "the source has a table this version does not know how to copy: \(name)"
        case .blobMissing(let sha): "the contents \(sha) named by a document version are missing from the source"
        case .blobAltered(let sha): "the contents stored as \(sha) do not have that digest"
        case .sourceChainBroken(let seq, let reason):
            "the source's audit chain does not verify at event \(seq): \(reason) (`mdp audit verify`); nothing was copied"
        case .chainBroken(let seq, let reason): "the audit chain does not verify on arrival at event \(seq): \(reason)"
        case .mismatch(let table):
            "the table \(table) differs between source and target after the copy: was the source still serving? Stop it, "
                + "empty the target and copy again"
        }
    }
}

extension AppDatabase {
    /// Every table of an installation, parents before children; a table missing from this list stops a copy.
    static let copiedTables = [
        "instance", "counter", "laureate", "expert", "account", "token", "login_failure", "expert_review", "signup_attempt",
        "framing_note", "conflict", "mission", "mission_participant", "mission_tombstone", "event", "idempotency", "document",
        "document_version", "outbox", "webhook_subscription", "webhook_delivery",
    ]
    /// Tables the copy leaves behind: their content is rebuilt (blobs move through the target's own store).
    static let uncopiedTables: Set<String> = ["blob_upload", "blob_chunk", "blob", "grdb_migrations", "schema_migration"]

    /// Copies this whole installation into `target`, an empty database (usually PostgreSQL): document contents first
    /// (each streamed and its digest checked), then every row in one transaction; then verifies the arrival: the
    /// audit chain, and every table's row count and digest compared with the source.
    public func copy(to target: AppDatabase) async throws -> CopyReport {
        guard dialect == .sqlite else { throw CopyError.sourceNotSQLite }
        guard try target.isEmpty() else { throw CopyError.targetNotEmpty }
        let tables = try engine.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        }
        if let unknown = tables.first(where: { !Self.copiedTables.contains($0) && !Self.uncopiedTables.contains($0) }) {
            throw CopyError.unknownTable(unknown)
        }
        // A source whose chain is already broken is not copied: the copy would carry the damage and fail on arrival.
        if case .broken(let seq, let reason) = try verifyAuditChain() { throw CopyError.sourceChainBroken(seq: seq, reason: reason) }
        var report = CopyReport()
        // Contents first: content-addressed, so a copy stopped halfway leaves only blobs a sweep removes.
        let digests = try engine.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT sha256, max(size) AS size, min(file_name) AS file_name FROM document_version GROUP BY sha256 ORDER BY sha256"
            ).map { (sha256: $0["sha256"] as String, size: $0["size"] as Int, fileName: $0["file_name"] as String) }
        }
        for blob in digests {
            let contents: BlobContents
            do {
                contents = try await blobs.contents(of: blob.sha256, range: 0..<blob.size)
            } catch {
                throw CopyError.blobMissing(blob.sha256)
            }
            // Recognised again on the way in, under a name it was uploaded with (text formats go by their extension).
            let stored = try await target.blobs.store(contents, limit: .max, fileName: blob.fileName)
            guard stored.sha256 == blob.sha256 else { throw CopyError.blobAltered(blob.sha256) }
            report.blobs += 1
            report.bytes += stored.size
        }
        // Every row in one transaction on the target, read from one snapshot of the source: all of the installation as
        // it was at one moment arrives, or none of it.
        report.rows = try engine.read { source in
            try target.engine.write { db in
                var rows: [String: Int] = [:]
                // The target's own first rows (its creation date, its counters) give way to the source's.
                try db.execute(sql: "DELETE FROM instance")
                try db.execute(sql: "DELETE FROM counter")
                for table in Self.copiedTables {
                    rows[table] = try Self.copyRows(of: table, from: source, into: db)
                }
                if db.dialect == .postgres {
                    for table in ["login_failure", "expert_review"] {
                        try db.execute(
                            sql:
                                "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce((SELECT max(id) FROM \(table)), 0) + 1, false)"
                        )
                    }
                }
                return rows
            }
        }
        // Arrival: the chain holds, and each table has the same rows.
        switch try target.verifyAuditChain() {
        case .intact(let events): report.events = events
        case .broken(let seq, let reason): throw CopyError.chainBroken(seq: seq, reason: reason)
        }
        for table in Self.copiedTables where try tableDigest(table) != target.tableDigest(table) {
            throw CopyError.mismatch(table: table)
        }
        return report
    }

    /// Inserts every row of `table` read in `source` into `db`, in batches; answers how many.
    private static func copyRows(of table: String, from source: SQLConnection, into db: SQLConnection) throws -> Int {
        var copied = 0
        var after: Int64 = .min
        while true {
            let page = try Row.fetchAll(
                source, sql: "SELECT rowid AS copy_position, * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT 500", arguments: [after])
            guard let last = page.last else { return copied }
            after = last["copy_position"]
            let columns = Array(last.columnNames.dropFirst())
            let marks = "(" + SQLConnection.marks(columns.count) + ")"
            var arguments = SQLArguments([])
            for row in page {
                arguments += SQLArguments(Array(row.databaseValues.dropFirst()))
            }
            try db.execute(
                sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                    + Array(repeating: marks, count: page.count).joined(separator: ", "),
                arguments: arguments)
            copied += page.count
        }
    }

    /// A digest of a table's rows whatever their order or the database: each row's values by column name, hashed, the
    /// hashes sorted and hashed again; with the row count.
    func tableDigest(_ table: String) throws -> String {
        try engine.read { db in
            var hashes: [String] = []
            do {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") {
                    var hasher = SHA256()
                    for (column, value) in zip(row.columnNames, row.databaseValues).sorted(by: { $0.0 < $1.0 }) {
                        hasher.update(data: Data("\(column)=".utf8))
                        switch value.storage {
                        case .null: hasher.update(data: Data("n;".utf8))
                        case .int64(let integer): hasher.update(data: Data("i\(integer);".utf8))
                        case .double(let double): hasher.update(data: Data("d\(double);".utf8))
                        case .string(let string): hasher.update(data: Data("s\(string.utf8.count):\(string);".utf8))
                        case .blob(let data):
                            hasher.update(data: Data("b\(data.count):".utf8))
                            hasher.update(data: data)
                        }
                    }
                    hashes.append(Hex.string(hasher.finalize()))
                }
            }
            var total = SHA256()
            for hash in hashes.sorted() { total.update(data: Data(hash.utf8)) }
            return "\(hashes.count):\(Hex.string(total.finalize()))"
        }
    }
}
