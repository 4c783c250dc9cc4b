import Foundation
import GRDB

/// Where the two databases' SQL differs, a statement asks which one runs.
public enum SQLDialect: Sendable, Hashable {
    case sqlite
    case postgres
}

/// The values bound to a statement's `?` marks, in order, as the database stores them.
struct SQLArguments: ExpressibleByArrayLiteral {
    private(set) var values: [DatabaseValue]

    init(_ values: [(any DatabaseValueConvertible)?]) { self.values = values.map { $0?.databaseValue ?? .null } }
    init(arrayLiteral elements: (any DatabaseValueConvertible)?...) { self.init(elements) }

    static func += (lhs: inout SQLArguments, rhs: SQLArguments) { lhs.values += rhs.values }
    static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        var sum = lhs
        sum += rhs
        return sum
    }

    var statementArguments: StatementArguments { StatementArguments(values) }
}

/// A value the database holds that is not what the schema promises (a broken file, a hand edit): refused, never trapped.
struct UnreadableValue: Error, CustomStringConvertible {
    let type: String
    let value: DatabaseValue
    var description: String { "the database holds \(value) where \(type) was expected" }
}

/// One transaction on whichever database runs, embedded SQLite or PostgreSQL. Storage's operations write each statement
/// once, in the SQL both understand, and ask `dialect` only where they differ; rows come back as GRDB rows either way.
final class SQLConnection {
    enum Backend {
        case sqlite(Database)
        case postgres(PostgresSession)
    }

    private let backend: Backend
    /// How many rows the last `execute` changed.
    private(set) var changesCount = 0

    init(_ backend: Backend) { self.backend = backend }

    var dialect: SQLDialect {
        switch backend {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    func execute(sql: String, arguments: SQLArguments = []) throws {
        switch backend {
        case .sqlite(let db):
            try db.execute(sql: sql, arguments: arguments.statementArguments)
            changesCount = db.changesCount
        case .postgres(let session):
            changesCount = try session.execute(sql, arguments.values)
        }
    }

    func rows(sql: String, arguments: SQLArguments = []) throws -> [Row] {
        switch backend {
        case .sqlite(let db): try Row.fetchAll(db, sql: sql, arguments: arguments.statementArguments)
        case .postgres(let session): try session.rows(sql, arguments.values)
        }
    }

    /// `?, ?, ?` for `count` values (at least one mark: an empty `IN ()` is not SQL everywhere).
    static func marks(_ count: Int) -> String { Array(repeating: "?", count: Swift.max(count, 1)).joined(separator: ", ") }
}

extension Row {
    static func fetchAll(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [Row] {
        try db.rows(sql: sql, arguments: arguments)
    }

    static func fetchOne(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> Row? {
        try db.rows(sql: sql, arguments: arguments).first
    }
}

extension DatabaseValueConvertible {
    /// The first column of the first row, nil when there is no row or it holds NULL.
    static func fetchOne(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.rows(sql: sql, arguments: arguments).first else { return nil }
        return try firstColumn(of: row)
    }

    /// The first column of every row (NULLs left out).
    static func fetchAll(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.rows(sql: sql, arguments: arguments).compactMap(firstColumn(of:))
    }

    private static func firstColumn(of row: Row) throws -> Self? {
        guard let value = row.databaseValues.first, !value.isNull else { return nil }
        guard let converted = Self.fromDatabaseValue(value) else { throw UnreadableValue(type: "\(Self.self)", value: value) }
        return converted
    }
}

/// Where the transactions of Storage run: a GRDB writer (a WAL pool, or a queue in tests) or a PostgreSQL pool.
enum SQLEngine: Sendable {
    case sqlite(any DatabaseWriter)
    case postgres(PostgresPool)

    var dialect: SQLDialect {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// One write transaction. Writes are serialised on both databases (SQLite's single writer; on PostgreSQL a
    /// transaction-scoped advisory lock every instance takes first), so a rule checked in a write holds when it commits.
    func write<T>(_ updates: (SQLConnection) throws -> T) throws -> T {
        switch self {
        case .sqlite(let writer):
            try writer.write { db in try updates(SQLConnection(.sqlite(db))) }
        case .postgres(let pool):
            try pool.transaction(writing: true) { session in try updates(SQLConnection(.postgres(session))) }
        }
    }

    /// One read transaction over a consistent snapshot.
    func read<T>(_ value: (SQLConnection) throws -> T) throws -> T {
        switch self {
        case .sqlite(let writer):
            try writer.read { db in try value(SQLConnection(.sqlite(db))) }
        case .postgres(let pool):
            try pool.transaction(writing: false) { session in try value(SQLConnection(.postgres(session))) }
        }
    }
}
