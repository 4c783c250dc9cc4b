import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is, read from a `postgres://user:password@host:port/database?sslmode=…` URL.
public struct PostgresLocation: Sendable {
    public let configuration: PostgresConnection.Configuration
    /// The URL with its password masked, for logs and messages.
    public let display: String

    public enum Problem: Error, CustomStringConvertible, Hashable {
        case notPostgres(String)
        case missing(String)
        case sslMode(String)
        public var description: String {
            switch self {
            case .notPostgres(let scheme): "a database URL starts with postgres:// or postgresql://, not \(scheme)://"
            case .missing(let part): "the database URL names no \(part)"
            case .sslMode(let mode): "sslmode=\(mode) is not one of disable, allow, prefer, require, verify-ca, verify-full"
            }
        }
    }

    /// Reads `url`: `sslmode` (disable, prefer — the default, like libpq —, require, verify-full) decides TLS, and
    /// `sslrootcert` names the authority to check the server's certificate against (the system's otherwise);
    /// `schema` sets the search path (one schema per test or per tenant); `host=/folder` reaches a Unix socket.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme else { throw Problem.missing("scheme") }
        guard scheme == "postgres" || scheme == "postgresql" else { throw Problem.notPostgres(scheme) }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw Problem.missing("user")
        }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let database = String(components.path.drop(while: { $0 == "/" })).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
        var configuration: PostgresConnection.Configuration
        // The port in the authority, or `?port=` as libpq also reads it.
        let port = query["port"].map { Int($0) ?? 0 } ?? components.port ?? 5432
        guard (1...65535).contains(port) else { throw Problem.missing("port from 1 to 65535") }
        if let socketFolder = query["host"], socketFolder.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            guard let host = components.host, !host.isEmpty else { throw Problem.missing("host") }
            let tls: PostgresConnection.Configuration.TLS
            let authority = query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
            switch query["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer(try Self.tlsContext(.none, authority: nil))
            case "require": tls = .require(try Self.tlsContext(.none, authority: nil))
            case "verify-ca": tls = .require(try Self.tlsContext(.noHostnameVerification, authority: authority))
            case "verify-full": tls = .require(try Self.tlsContext(.fullVerification, authority: authority))
            case let mode: throw Problem.sslMode(mode)
            }
            configuration = .init(
                host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        if let schema = query["schema"], !schema.isEmpty {
            configuration.options.additionalStartupParameters.append(("search_path", schema))
        }
        configuration.options.connectTimeout = .seconds(10)
        // An instance that stops mid-transaction (frozen, paused, cut off) must not hold the write lock for good: the
        // server ends a session idle inside a transaction after 5 s (a transaction's statements follow each other within
        // milliseconds; bcrypt and uploads run outside), and a writer gives up waiting after 20 s (503).
        configuration.options.additionalStartupParameters += [
            ("idle_in_transaction_session_timeout", "5000"), ("lock_timeout", "20000"),
        ]
        self.configuration = configuration
        var masked = components
        if masked.password != nil { masked.password = "***" }
        display = masked.string ?? "postgres://"
    }

    private static func tlsContext(_ verification: CertificateVerification, authority: String?) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = verification
        if let authority {
            guard FileManager.default.isReadableFile(atPath: authority) else { throw Problem.missing("readable sslrootcert file") }
            tls.trustRoots = .file(authority)
        }
        return try NIOSSLContext(configuration: tls)
    }
}

/// A fixed number of PostgreSQL connections shared by Storage's operations, which run on blocking threads (the API's
/// storage pool, commands): a caller waits for a free connection, runs one transaction on it and gives it back.
final class PostgresPool: @unchecked Sendable {
    let location: PostgresLocation
    let size: Int
    private let logger = Logger(label: "mdp.postgres")
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var opened = 0
    private var nextID = 0
    private var closed = false
    private var listeners: [PostgresListener] = []

    /// Every write transaction takes this transaction-scoped advisory lock first: writes are serialised across all
    /// instances, as SQLite's single writer serialises them, so a ceiling checked or a chain head read in a write holds
    /// when it commits.
    static let writeLock: Int64 = 0x6D64_7077  // "mdpw"
    /// Taken for the whole of a migration run, so two instances starting together do not both migrate.
    static let migrationLock: Int64 = 0x6D64_706D  // "mdpm"

    init(_ location: PostgresLocation, size: Int) {
        self.location = location
        self.size = max(1, size)
    }

    deinit { close() }

    /// Keeps `listener` running as long as the pool is open.
    func keep(_ listener: PostgresListener) {
        condition.lock()
        listeners.append(listener)
        condition.unlock()
    }

    /// Runs `body` in one transaction: read-committed behind the write lock for writes, a repeatable-read snapshot
    /// for reads. Rolled back when `body` or the commit throws.
    func transaction<T>(writing: Bool, _ body: (PostgresSession) throws -> T) throws -> T {
        try withConnection { session in
            _ = try session.execute(
                writing ? "BEGIN ISOLATION LEVEL READ COMMITTED" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [])
            do {
                if writing { try Self.takeWriteLock(session) }
                let value = try body(session)
                _ = try session.execute("COMMIT", [])
                return value
            } catch {
                _ = try? session.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    /// How long one statement may go unanswered before its connection is given up. A served statement takes
    /// milliseconds and never waits for the write lock in the server (it asks for it, `takeWriteLock`), so only a
    /// lost connection or a stopped server reaches this. A wait on a connection that will never answer would otherwise
    /// hold a thread of the storage pool for good (seen: backends terminated, a server restarted, an instance paused
    /// mid-request), until every request hangs; and it ends well inside the shutdown grace (25 s), or a SIGTERM after
    /// such trouble would end in a crash instead of exit 0.
    static let statementDeadline: TimeAmount = .seconds(10)
    /// For migrations (waiting for another instance's, building an index on a large table): one statement may run long.
    static let longStatementDeadline: TimeAmount = .hours(1)

    /// Takes the write lock by asking for it until it is free (at most every 50 ms, for 20 s, then `busy`) instead of
    /// queueing in the server: a session of an instance that froze while it waited would otherwise be handed the lock
    /// and hold every instance's writes until the server ends it, then the next one of that instance, and so on (seen:
    /// a paused instance stalled the others' writes 20 s). A frozen instance asks nothing, so it is never handed it.
    static func takeWriteLock(_ session: PostgresSession) throws {
        let deadline = Date().addingTimeInterval(20)
        var pause: UInt32 = 1_000
        while try session.rows("SELECT pg_try_advisory_xact_lock(\(writeLock)) AS taken", []).first?["taken"] != true {
            guard Date() < deadline else { throw StorageError.busy }
            usleep(pause + UInt32.random(in: 0...pause))
            pause = min(pause * 2, 25_000)
        }
    }

    /// Runs `body` on a connection of its own (no transaction around it), each statement within `deadline` (the pool's
    /// when nil).
    func withConnection<T>(deadline: TimeAmount? = nil, _ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try checkOut()
        do {
            let value = try body(PostgresSession(connection: connection, logger: logger, deadline: deadline ?? self.deadline))
            checkIn(connection)
            return value
        } catch StorageError.unavailable {
            // Lost or given up: never handed to another caller.
            discard(connection)
            throw StorageError.unavailable
        } catch {
            checkIn(connection)
            throw error
        }
    }

    private func discard(_ connection: PostgresConnection) {
        condition.lock()
        opened -= 1
        // What cut this connection (a restart, terminated backends) most likely cut the idle ones too: a caller would
        // otherwise wait a whole deadline on each. They are opened again on demand.
        let stale = idle
        idle = []
        opened -= stale.count
        condition.broadcast()
        condition.unlock()
        for other in stale {
            let closing: EventLoopFuture<Void> = other.close()
            closing.whenComplete { _ in withExtendedLifetime(other) {} }
        }
        // The connection lives until it is closed (postgres-nio checks that it never goes away open).
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// The deadline of each statement (shorter in tests).
    var deadline: TimeAmount = PostgresPool.statementDeadline

    private func checkOut() throws -> PostgresConnection {
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw PostgresPoolClosed()
            }
            if let connection = idle.popLast() {
                if connection.isClosed {
                    opened -= 1
                    continue
                }
                condition.unlock()
                return connection
            }
            if opened < size {
                opened += 1
                nextID += 1
                let id = nextID
                condition.unlock()
                do {
                    return try PostgresConnection.connect(
                        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: location.configuration, id: id, logger: logger
                    ).wait()
                } catch {
                    condition.lock()
                    opened -= 1
                    condition.signal()
                    condition.unlock()
                    if let error = error as? PSQLError { throw PostgresFailure(error, connecting: location) }
                    throw error
                }
            }
            condition.wait()
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        condition.lock()
        if connection.isClosed || closed {
            opened -= 1
        } else {
            idle.append(connection)
        }
        condition.signal()
        condition.unlock()
        if closed { _ = try? connection.close().wait() }
    }

    /// Closes the idle connections; later calls fail.
    func close() {
        condition.lock()
        closed = true
        let connections = idle
        idle = []
        listeners.forEach { $0.stop() }
        listeners = []
        opened -= connections.count
        condition.broadcast()
        condition.unlock()
        for connection in connections { _ = try? connection.close().wait() }
    }
}

/// What PostgreSQL or the way to it refused, in words an operator can act on (postgres-nio's own description hides
/// everything, to leak nothing; this keeps the server's message and the kind of failure, never the password).
public struct PostgresFailure: Error, CustomStringConvertible {
    public let description: String
    /// Whether the server could not be reached (an outage to wait out, not a fault of the request).
    public let isUnreachable: Bool

    init(_ error: PSQLError, connecting location: PostgresLocation? = nil) {
        let state = error.serverInfo?[.sqlState] ?? ""
        // Not reached, or reached while it starts, stops or ends sessions (57P*: shutdown, starting up; 08*: connection).
        isUnreachable =
            [.connectionError, .serverClosedConnection, .uncleanShutdown].contains(error.code) || state.hasPrefix("57P")
            || state.hasPrefix("08")
        var reason: String
        if let message = error.serverInfo?[.message] {
            reason = message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        } else {
            switch error.code {
            case .sslUnsupported: reason = "the server does not offer TLS, which the URL's sslmode asks for"
            case .connectionError: reason = "cannot connect" + (error.underlying.map { ": \($0)" } ?? "")
            case .serverClosedConnection, .clientClosedConnection: reason = "the connection was closed"
            case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
                reason = "authentication failed (\(error.code)); check the user and password"
            default: reason = "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            }
        }
        description = "PostgreSQL" + (location.map { " at \($0.display)" } ?? "") + ": " + reason
    }
}

struct PostgresPoolClosed: Error, CustomStringConvertible {
    var description: String { "the PostgreSQL connections are closed" }
}

/// One connection inside a transaction: runs statements written with SQLite's `?` marks, values as GRDB stores them.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    var deadline: TimeAmount = PostgresPool.statementDeadline

    /// Runs `sql`; answers how many rows it changed.
    func execute(_ sql: String, _ values: [DatabaseValue]) throws -> Int {
        try run(sql, values).metadata.rows ?? 0
    }

    func rows(_ sql: String, _ values: [DatabaseValue]) throws -> [Row] {
        try run(sql, values).rows.map { row in
            var columns: [String: DatabaseValue] = [:]
            for cell in row where columns[cell.columnName] == nil {
                columns[cell.columnName] = try Self.value(of: cell)
            }
            return Row(columns)
        }
    }

    private func run(_ sql: String, _ values: [DatabaseValue]) throws -> PostgresQueryResult {
        let query = try Self.query(sql, values)
        do {
            return try Self.answer(connection.query(query, logger: logger), on: connection, within: deadline).wait()
        } catch let error as PSQLError {
            throw Self.databaseError(error, sql: sql)
        }
    }

    /// `future`, or `StorageError.unavailable` once `deadline` has passed without an answer (the pool then closes the
    /// connection, which also ends its session on the server if it is still there).
    static func answer<T: Sendable>(_ future: EventLoopFuture<T>, on connection: PostgresConnection, within deadline: TimeAmount)
        -> EventLoopFuture<T>
    {
        let eventLoop = future.eventLoop
        let promise = eventLoop.makePromise(of: T.self)
        let timeout = eventLoop.scheduleTask(in: deadline) { promise.fail(StorageError.unavailable) }
        future.whenComplete { result in
            timeout.cancel()
            promise.completeWith(result)
        }
        return promise.futureResult
    }

    /// A server's refusal as the error SQLite would give for it, so Storage has one kind of database error: a broken
    /// constraint or a refusing trigger is a constraint error; a lock that could not be had in time is `busy`.
    static func databaseError(_ error: PSQLError, sql: String) -> any Error {
        switch error.code {
        // The connection is gone: whatever was under way may or may not have been committed.
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return StorageError.unavailable
        default: break
        }
        guard let state = error.serverInfo?[.sqlState] else { return PostgresFailure(error) }
        // The server is shutting down, ended this session (also for sitting idle in its transaction, 25P03), or cannot
        // accept it (08: connection exceptions).
        if state.hasPrefix("57P") || state.hasPrefix("08") || state == "25P03" { return StorageError.unavailable }
        // Text PostgreSQL cannot hold (U+0000) was sent: nothing stored can equal it (SQLite would find nothing).
        if state == "22021" || state == "22P05" { return StorageError.notFound }
        let message = error.serverInfo?[.message] ?? state
        let code: ResultCode
        switch state {
        case "55P03", "40001", "40P01": return StorageError.busy
        case "23505": code = .SQLITE_CONSTRAINT_UNIQUE
        case "23503": code = .SQLITE_CONSTRAINT_FOREIGNKEY
        case "23502": code = .SQLITE_CONSTRAINT_NOTNULL
        case "23514": code = .SQLITE_CONSTRAINT_CHECK
        case "P0001": code = .SQLITE_CONSTRAINT_TRIGGER
        default: return PostgresFailure(error)
        }
        return DatabaseError(resultCode: code, message: "\(message) (SQLSTATE \(state))", sql: sql)
    }

    /// `sql` with each `?` outside quotes numbered as PostgreSQL wants (`$1`, `$2`, …; SQLite's `?NNN` keeps its
    /// number), and its values bound.
    static func query(_ sql: String, _ values: [DatabaseValue]) throws -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 8)
        var quote: Character?
        var next = 0
        var highest = 0
        var characters = sql[...]
        while let character = characters.popFirst() {
            if let open = quote {
                if character == open { quote = nil }
                text.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                text.append(character)
            } else if character == "?" {
                let digits = characters.prefix(while: { $0.isASCII && $0.isNumber })
                characters = characters.dropFirst(digits.count)
                let number: Int
                if digits.isEmpty {
                    next += 1
                    number = next
                } else {
                    guard let explicit = Int(digits), (1...Int(UInt16.max)).contains(explicit) else {
                        throw ArgumentCount(marks: Int(UInt16.max), values: values.count)
                    }
                    number = explicit
                }
                highest = max(highest, number)
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        guard highest == values.count else { throw ArgumentCount(marks: highest, values: values.count) }
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value.storage {
            case .null: binds.appendNull()
            case .int64(let integer): binds.append(integer)
            case .double(let double): binds.append(double)
            case .string(let string): binds.append(string)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    struct ArgumentCount: Error, CustomStringConvertible {
        let marks: Int
        let values: Int
        var description: String { "a statement has \(marks) marks and \(values) values" }
    }

    /// A cell as the value SQLite would hold: integers and booleans as integers, text, reals, bytes.
    static func value(of cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return try cell.decode(Int64.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            let number = NSDecimalNumber(decimal: decimal)
            if decimal == Decimal(number.int64Value) { return number.int64Value.databaseValue }
            return number.doubleValue.databaseValue
        case .bytea: return Data(try cell.decode(ByteBuffer.self).readableBytesView).databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }
}

/// Listens on a PostgreSQL channel over a connection of its own and reports each notification carrying `tag` (the
/// schema: instances of one installation share it, tests on one server do not), reconnecting when the connection
/// drops. `connected` is told false as soon as the connection is lost and true once listening again, so what the
/// notifications keep fresh is not trusted while some may be missed.
final class PostgresListener: Sendable {
    private let task: Task<Void, Never>

    init(
        _ location: PostgresLocation, channel: String, notified: @escaping @Sendable () -> Void,
        connected: @escaping @Sendable (Bool) -> Void
    ) {
        task = Task.detached {
            let logger = Logger(label: "mdp.postgres.listen")
            var delay: Duration = .milliseconds(100)
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(configuration: location.configuration, id: 0, logger: logger)
                    do {
                        var tag = ""
                        for try await row in try await connection.query("SELECT current_schema()", logger: logger) {
                            tag = try row.decode(String.self)
                        }
                        try await connection.listen(on: channel) { notifications in
                            delay = .milliseconds(100)
                            connected(true)
                            for try await notification in notifications where notification.payload == tag { notified() }
                        }
                    } catch {}
                    connected(false)
                    try? await connection.close()
                } catch {
                    connected(false)
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    func stop() { task.cancel() }
}
