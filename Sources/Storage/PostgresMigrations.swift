import Foundation
import GRDB

/// The PostgreSQL schema: the same named migrations as `Migrations` (SQLite), in the same order, written for
/// PostgreSQL. Integers are BIGINT (Swift's Int64), times are the same text GRDB writes (compared as text, as on
/// SQLite), JSON is text checked by `json_valid`; a few functions let Storage's statements read the same on both.
enum PostgresMigrations {
    static let all: [(name: String, statements: [String])] = [
        (
            "2026-11-27 instance",
            [
                // What SQLite has built in, under the same names, so Storage's statements are written once.
                """
                CREATE FUNCTION json_valid(document text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
                BEGIN PERFORM document::json; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$
                """,
                "CREATE FUNCTION json_array_length(document text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT json_array_length(document::json) $$",
                "CREATE FUNCTION json_each(document text) RETURNS TABLE (value text) LANGUAGE sql IMMUTABLE AS $$ SELECT json_array_elements_text(document::json) $$",
                "CREATE FUNCTION json_array_of(items text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT array_to_json(items)::text $$",
                "CREATE AGGREGATE json_group_array(text) (SFUNC = array_append, STYPE = text[], FINALFUNC = json_array_of, INITCOND = '{}')",
                """
                CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$
                """,
                "CREATE TABLE instance (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
                """
                INSERT INTO instance (key, value)
                VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                """,
            ]
        ),
        (
            "2026-11-27 accounts, laureates and expert cards",
            [
                "CREATE TABLE counter (name TEXT PRIMARY KEY NOT NULL, value BIGINT NOT NULL)",
                "INSERT INTO counter (name, value) VALUES ('revision', 0)",
                """
                CREATE TABLE laureate (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
                    slug TEXT NOT NULL UNIQUE,
                    legal_entity TEXT NOT NULL,
                    siret TEXT NOT NULL CHECK (length(siret) = 14),
                    commune_insee TEXT NOT NULL,
                    commune_name TEXT NOT NULL,
                    department_code TEXT NOT NULL,
                    territory_types TEXT NOT NULL CHECK (json_valid(territory_types)),
                    cohort BIGINT NOT NULL,
                    sectors TEXT NOT NULL CHECK (json_valid(sectors)),
                    support_ceiling_cents BIGINT NOT NULL CHECK (support_ceiling_cents > 0),
                    revision BIGINT NOT NULL,
                    created_at TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE expert (
                    id TEXT PRIMARY KEY NOT NULL,
                    slug TEXT NOT NULL UNIQUE,
                    state TEXT NOT NULL CHECK (state IN
                        ('draft', 'submitted', 'changes_requested', 'published', 'rejected', 'suspended', 'withdrawn')),
                    content TEXT NOT NULL CHECK (json_valid(content)),
                    message TEXT,
                    revision BIGINT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    published_at TEXT,
                    CHECK (state <> 'published' OR published_at IS NOT NULL)
                )
                """,
                "CREATE INDEX expert_by_state ON expert (state, updated_at, id)",
                """
                CREATE TABLE "user" (
                    id TEXT PRIMARY KEY NOT NULL,
                    email TEXT NOT NULL UNIQUE CHECK (email = lower(trim(email))),
                    password_hash TEXT,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'expert', 'laureate', 'sync')),
                    display_name TEXT NOT NULL,
                    expert_id TEXT UNIQUE REFERENCES expert (id),
                    laureate_id TEXT REFERENCES laureate (id),
                    created_at TEXT NOT NULL,
                    CHECK (expert_id IS NULL OR laureate_id IS NULL),
                    CHECK ((role = 'expert') = (expert_id IS NOT NULL)),
                    CHECK ((role = 'laureate') = (laureate_id IS NOT NULL))
                )
                """,
                #"CREATE INDEX user_by_laureate ON "user" (laureate_id)"#,
                """
                CREATE TABLE token (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
                    hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
                    kind TEXT NOT NULL CHECK (kind IN ('session', 'personal', 'service')),
                    name TEXT,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    revoked_at TEXT,
                    last_used_at TEXT,
                    CHECK (kind = 'session' OR name IS NOT NULL)
                )
                """,
                "CREATE INDEX token_by_user ON token (user_id, created_at)",
                """
                CREATE TABLE login_failure (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    email TEXT NOT NULL,
                    address TEXT NOT NULL,
                    at TEXT NOT NULL
                )
                """,
                "CREATE INDEX login_failure_by_email ON login_failure (email, at)",
                "CREATE INDEX login_failure_by_address ON login_failure (address, at)",
                """
                CREATE TABLE expert_review (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    expert_id TEXT NOT NULL REFERENCES expert (id),
                    author_id TEXT NOT NULL REFERENCES "user" (id),
                    action TEXT NOT NULL,
                    message TEXT,
                    note TEXT,
                    at TEXT NOT NULL
                )
                """,
                "CREATE INDEX expert_review_by_expert ON expert_review (expert_id, id)",
            ]
        ),
        (
            "2026-11-27 framing notes, conflicts, missions and the audit log",
            [
                """
                CREATE TABLE framing_note (
                    laureate_id TEXT NOT NULL REFERENCES laureate (id),
                    version BIGINT NOT NULL CHECK (version >= 1),
                    needs TEXT NOT NULL CHECK (json_valid(needs) AND json_array_length(needs) >= 1),
                    document_id TEXT,
                    author_id TEXT NOT NULL REFERENCES "user" (id),
                    revision BIGINT NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (laureate_id, version)
                )
                """,
                """
                CREATE TABLE conflict (
                    expert_id TEXT NOT NULL REFERENCES expert (id),
                    laureate_id TEXT NOT NULL REFERENCES laureate (id),
                    reason TEXT NOT NULL,
                    recorded_by TEXT NOT NULL REFERENCES "user" (id),
                    recorded_at TEXT NOT NULL,
                    PRIMARY KEY (expert_id, laureate_id)
                )
                """,
                """
                CREATE TABLE mission (
                    id TEXT PRIMARY KEY NOT NULL,
                    ref TEXT NOT NULL UNIQUE,
                    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
                    subthemes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(subthemes)),
                    expert_id TEXT NOT NULL REFERENCES expert (id),
                    state TEXT NOT NULL CHECK (state IN
                        ('requested', 'scoping', 'proposed', 'accepted', 'reported', 'closed', 'declined', 'cancelled', 'terminated')),
                    proposal TEXT CHECK (proposal IS NULL OR json_valid(proposal)),
                    report TEXT CHECK (report IS NULL OR json_valid(report)),
                    last_comment TEXT,
                    requested_by TEXT NOT NULL REFERENCES "user" (id),
                    revision BIGINT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    CHECK (state IN ('requested', 'scoping', 'declined', 'cancelled') OR proposal IS NOT NULL),
                    CHECK (state NOT IN ('reported', 'closed') OR report IS NOT NULL)
                )
                """,
                "CREATE INDEX mission_by_expert ON mission (expert_id, revision)",
                "CREATE INDEX mission_by_revision ON mission (revision)",
                """
                CREATE TABLE mission_participant (
                    mission_id TEXT NOT NULL REFERENCES mission (id),
                    laureate_id TEXT NOT NULL REFERENCES laureate (id),
                    position BIGINT NOT NULL,
                    share_cents BIGINT CHECK (share_cents IS NULL OR share_cents >= 0),
                    accepted_on TEXT,
                    reviewed_on TEXT,
                    review TEXT CHECK (review IS NULL OR json_valid(review)),
                    PRIMARY KEY (mission_id, laureate_id),
                    UNIQUE (mission_id, position)
                )
                """,
                "CREATE INDEX mission_participant_by_laureate ON mission_participant (laureate_id)",
                """
                CREATE TABLE mission_tombstone (
                    mission_id TEXT NOT NULL REFERENCES mission (id),
                    laureate_id TEXT NOT NULL REFERENCES laureate (id),
                    revision BIGINT NOT NULL,
                    PRIMARY KEY (mission_id, laureate_id)
                )
                """,
                """
                CREATE TABLE event (
                    seq BIGINT PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor_id TEXT,
                    action TEXT NOT NULL,
                    subject_type TEXT NOT NULL,
                    subject_id TEXT NOT NULL,
                    before_digest TEXT,
                    after_digest TEXT,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE
                )
                """,
                "CREATE INDEX event_by_subject ON event (subject_type, subject_id, seq)",
                """
                CREATE TRIGGER event_is_append_only_update BEFORE UPDATE ON event
                FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only')
                """,
                """
                CREATE TRIGGER event_is_append_only_delete BEFORE DELETE ON event
                FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only')
                """,
                """
                CREATE TRIGGER framing_notes_are_kept_update BEFORE UPDATE ON framing_note
                FOR EACH ROW EXECUTE FUNCTION refuse_change('framing note versions are kept as written')
                """,
                """
                CREATE TRIGGER framing_notes_are_kept_delete BEFORE DELETE ON framing_note
                FOR EACH ROW EXECUTE FUNCTION refuse_change('framing note versions are kept as written')
                """,
            ]
        ),
        (
            "2026-11-27 idempotency keys",
            [
                """
                CREATE TABLE idempotency (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    status BIGINT,
                    headers TEXT CHECK (headers IS NULL OR json_valid(headers)),
                    body BYTEA,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (scope, key)
                )
                """,
                "CREATE INDEX idempotency_by_age ON idempotency (created_at)",
            ]
        ),
        (
            "2026-11-27 documents",
            [
                """
                CREATE TABLE document (
                    id TEXT PRIMARY KEY NOT NULL,
                    laureate_id TEXT NOT NULL REFERENCES laureate (id),
                    mission_id TEXT REFERENCES mission (id),
                    kind TEXT NOT NULL CHECK (kind IN ('application', 'post_incubation', 'framing_note', 'diagnostic', 'quote',
                        'mission_report', 'satisfaction_review', 'deliverable', 'other')),
                    current_version BIGINT NOT NULL CHECK (current_version >= 1),
                    revision BIGINT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    withdrawn_at TEXT,
                    CHECK ((mission_id IS NULL) = (kind IN ('application', 'post_incubation', 'framing_note')))
                )
                """,
                "CREATE INDEX document_by_revision ON document (revision)",
                "CREATE INDEX document_by_laureate ON document (laureate_id)",
                "CREATE INDEX document_by_mission ON document (mission_id)",
                """
                CREATE TABLE document_version (
                    document_id TEXT NOT NULL REFERENCES document (id),
                    version BIGINT NOT NULL CHECK (version >= 1),
                    file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
                    media_type TEXT NOT NULL,
                    size BIGINT NOT NULL CHECK (size > 0),
                    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                    source TEXT NOT NULL CHECK (source IN ('api', 'drive')),
                    conflict BIGINT NOT NULL DEFAULT 0 CHECK (conflict IN (0, 1)),
                    uploader_id TEXT NOT NULL REFERENCES "user" (id),
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (document_id, version)
                )
                """,
                """
                CREATE TRIGGER document_versions_are_kept BEFORE UPDATE ON document_version
                FOR EACH ROW EXECUTE FUNCTION refuse_change('document versions are kept as uploaded')
                """,
            ]
        ),
        (
            "2026-11-28 pooled invitations",
            ["ALTER TABLE mission_participant ADD COLUMN joined BIGINT NOT NULL DEFAULT 1 CHECK (joined IN (0, 1))"]
        ),
        ("2026-11-28 idempotency applied", ["ALTER TABLE idempotency ADD COLUMN applied_at TEXT"]),
        (
            "2026-11-28 sign-up throttling",
            [
                "CREATE TABLE signup_attempt (address TEXT NOT NULL, at TEXT NOT NULL)",
                "CREATE INDEX signup_attempt_by_address ON signup_attempt (address, at)",
            ]
        ),
        ("2026-11-29 accounts table", [#"ALTER TABLE "user" RENAME TO account"#]),
        ("2026-11-29 idempotency claims", ["ALTER TABLE idempotency ADD COLUMN claim TEXT NOT NULL DEFAULT ''"]),
        (
            "2026-11-29 document contents in the database",
            Migrations.blobTables.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                // Contents are mostly compressed already (PDF, Office, images): stored out of line without trying again.
                + ["ALTER TABLE blob_chunk ALTER COLUMN bytes SET STORAGE EXTERNAL"]
        ),
        (
            "2026-11-29 outbox",
            Migrations.outboxTable.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        ),
        ("2026-11-30 outbox delivery", Migrations.outboxDelivery),
        ("2026-11-30 webhooks", Migrations.webhookTables),
        ("2026-12-01 erasure", Migrations.erasure),
    ]

    /// Where the names of applied migrations are kept.
    private static let ledger = "CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)"

    /// Applies the missing migrations in order, each in its own transaction with its record, under a lock every
    /// instance takes (two instances starting together migrate once).
    static func migrate(_ pool: PostgresPool) throws {
        // Waiting for another instance's migration, or building an index on a large table, may take long.
        try pool.withConnection(deadline: PostgresPool.longStatementDeadline) { session in
            // Another instance may be migrating: wait for it however long it takes.
            _ = try session.execute("SET lock_timeout = 0", [])
            _ = try session.execute("SELECT pg_advisory_lock(\(PostgresPool.migrationLock))", [])
            defer { _ = try? session.execute("SELECT pg_advisory_unlock(\(PostgresPool.migrationLock))", []) }
            _ = try session.execute(ledger, [])
            let done = Set(try session.rows("SELECT name FROM schema_migration", []).map { $0["name"] as String })
            for migration in all where !done.contains(migration.name) {
                _ = try session.execute("BEGIN", [])
                do {
                    for statement in migration.statements { _ = try session.execute(statement, []) }
                    _ = try session.execute(
                        "INSERT INTO schema_migration (name, applied_at) VALUES (?, ?)",
                        [migration.name.databaseValue, Date().databaseValue])
                    _ = try session.execute("COMMIT", [])
                } catch {
                    _ = try? session.execute("ROLLBACK", [])
                    throw error
                }
            }
        }
    }

    /// The migrations applied, in the order they were defined.
    static func applied(_ pool: PostgresPool) throws -> [String] {
        let done = try names(pool)
        return all.map(\.name).filter(done.contains)
    }

    /// The migrations this binary has that the database lacks.
    static func pending(_ pool: PostgresPool) throws -> [String] {
        let done = try names(pool)
        return all.map(\.name).filter { !done.contains($0) }
    }

    private static func names(_ pool: PostgresPool) throws -> Set<String> {
        try pool.withConnection { session in
            let exists = try session.rows("SELECT to_regclass('schema_migration') IS NOT NULL AS present", []).first?["present"] as Bool?
            guard exists == true else { return [] }
            return Set(try session.rows("SELECT name FROM schema_migration", []).map { $0["name"] as String })
        }
    }
}
