import GRDB

/// Named migrations, applied in order and never edited once shipped. Constraints live here, in SQL.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-27 instance") { db in
            try db.create(table: "instance") { t in
                t.primaryKey("key", .text).notNull()
                t.column("value", .text).notNull()
            }
            try db.execute(
                sql: "INSERT INTO instance (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
        }
        migrator.registerMigration("2026-11-27 accounts, laureates and expert cards") { db in
            try db.execute(
                sql: """
                    CREATE TABLE counter (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
                    INSERT INTO counter (name, value) VALUES ('revision', 0);

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
                        cohort INTEGER NOT NULL,
                        sectors TEXT NOT NULL CHECK (json_valid(sectors)),
                        support_ceiling_cents INTEGER NOT NULL CHECK (support_ceiling_cents > 0),
                        revision INTEGER NOT NULL,
                        created_at DATETIME NOT NULL
                    );

                    CREATE TABLE expert (
                        id TEXT PRIMARY KEY NOT NULL,
                        slug TEXT NOT NULL UNIQUE,
                        state TEXT NOT NULL CHECK (state IN
                            ('draft', 'submitted', 'changes_requested', 'published', 'rejected', 'suspended', 'withdrawn')),
                        content TEXT NOT NULL CHECK (json_valid(content)),
                        message TEXT,
                        revision INTEGER NOT NULL,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL,
                        published_at DATETIME,
                        CHECK (state <> 'published' OR published_at IS NOT NULL)
                    );
                    CREATE INDEX expert_by_state ON expert (state, updated_at, id);

                    CREATE TABLE user (
                        id TEXT PRIMARY KEY NOT NULL,
                        email TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (email = lower(trim(email))),
                        password_hash TEXT,
                        role TEXT NOT NULL CHECK (role IN ('admin', 'expert', 'laureate', 'sync')),
                        display_name TEXT NOT NULL,
                        expert_id TEXT UNIQUE REFERENCES expert (id),
                        laureate_id TEXT REFERENCES laureate (id),
                        created_at DATETIME NOT NULL,
                        CHECK (expert_id IS NULL OR laureate_id IS NULL),
                        CHECK ((role = 'expert') = (expert_id IS NOT NULL)),
                        CHECK ((role = 'laureate') = (laureate_id IS NOT NULL))
                    );
                    CREATE INDEX user_by_laureate ON user (laureate_id);

                    CREATE TABLE token (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
                        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
                        kind TEXT NOT NULL CHECK (kind IN ('session', 'personal', 'service')),
                        name TEXT,
                        created_at DATETIME NOT NULL,
                        expires_at DATETIME NOT NULL,
                        revoked_at DATETIME,
                        last_used_at DATETIME,
                        CHECK (kind = 'session' OR name IS NOT NULL)
                    );
                    CREATE INDEX token_by_user ON token (user_id, created_at);

                    CREATE TABLE login_failure (
                        id INTEGER PRIMARY KEY,
                        email TEXT NOT NULL,
                        address TEXT NOT NULL,
                        at DATETIME NOT NULL
                    );
                    CREATE INDEX login_failure_by_email ON login_failure (email, at);
                    CREATE INDEX login_failure_by_address ON login_failure (address, at);

                    CREATE TABLE expert_review (
                        id INTEGER PRIMARY KEY,
                        expert_id TEXT NOT NULL REFERENCES expert (id),
                        author_id TEXT NOT NULL REFERENCES user (id),
                        action TEXT NOT NULL,
                        message TEXT,
                        note TEXT,
                        at DATETIME NOT NULL
                    );
                    CREATE INDEX expert_review_by_expert ON expert_review (expert_id, id);
                    """)
        }
        migrator.registerMigration("2026-11-27 framing notes, conflicts, missions and the audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE framing_note (
                        laureate_id TEXT NOT NULL REFERENCES laureate (id),
                        version INTEGER NOT NULL CHECK (version >= 1),
                        needs TEXT NOT NULL CHECK (json_valid(needs) AND json_array_length(needs) >= 1),
                        document_id TEXT,
                        author_id TEXT NOT NULL REFERENCES user (id),
                        revision INTEGER NOT NULL,
                        created_at DATETIME NOT NULL,
                        PRIMARY KEY (laureate_id, version)
                    );

                    CREATE TABLE conflict (
                        expert_id TEXT NOT NULL REFERENCES expert (id),
                        laureate_id TEXT NOT NULL REFERENCES laureate (id),
                        reason TEXT NOT NULL,
                        recorded_by TEXT NOT NULL REFERENCES user (id),
                        recorded_at DATETIME NOT NULL,
                        PRIMARY KEY (expert_id, laureate_id)
                    );

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
                        requested_by TEXT NOT NULL REFERENCES user (id),
                        revision INTEGER NOT NULL UNIQUE,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL,
                        CHECK (state IN ('requested', 'scoping', 'declined', 'cancelled') OR proposal IS NOT NULL),
                        CHECK (state NOT IN ('reported', 'closed') OR report IS NOT NULL)
                    );
                    CREATE INDEX mission_by_expert ON mission (expert_id, revision);
                    CREATE INDEX mission_by_revision ON mission (revision);

                    CREATE TABLE mission_participant (
                        mission_id TEXT NOT NULL REFERENCES mission (id),
                        laureate_id TEXT NOT NULL REFERENCES laureate (id),
                        position INTEGER NOT NULL,
                        share_cents INTEGER CHECK (share_cents IS NULL OR share_cents >= 0),
                        accepted_on TEXT,
                        reviewed_on TEXT,
                        review TEXT CHECK (review IS NULL OR json_valid(review)),
                        PRIMARY KEY (mission_id, laureate_id),
                        UNIQUE (mission_id, position)
                    );
                    CREATE INDEX mission_participant_by_laureate ON mission_participant (laureate_id);

                    CREATE TABLE mission_tombstone (
                        mission_id TEXT NOT NULL REFERENCES mission (id),
                        laureate_id TEXT NOT NULL REFERENCES laureate (id),
                        revision INTEGER NOT NULL,
                        PRIMARY KEY (mission_id, laureate_id)
                    );

                    CREATE TABLE event (
                        seq INTEGER PRIMARY KEY,
                        at TEXT NOT NULL,
                        actor_id TEXT,
                        action TEXT NOT NULL,
                        subject_type TEXT NOT NULL,
                        subject_id TEXT NOT NULL,
                        before_digest TEXT,
                        after_digest TEXT,
                        prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE
                    );
                    CREATE INDEX event_by_subject ON event (subject_type, subject_id, seq);
                    CREATE TRIGGER event_is_append_only_update BEFORE UPDATE ON event
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER event_is_append_only_delete BEFORE DELETE ON event
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

                    CREATE TRIGGER framing_notes_are_kept_update BEFORE UPDATE ON framing_note
                    BEGIN SELECT RAISE(ABORT, 'framing note versions are kept as written'); END;
                    CREATE TRIGGER framing_notes_are_kept_delete BEFORE DELETE ON framing_note
                    BEGIN SELECT RAISE(ABORT, 'framing note versions are kept as written'); END;
                    """)
        }
        migrator.registerMigration("2026-11-27 idempotency keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE idempotency (
                        scope TEXT NOT NULL,
                        key TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        status INTEGER,
                        headers TEXT CHECK (headers IS NULL OR json_valid(headers)),
                        body BLOB,
                        created_at DATETIME NOT NULL,
                        PRIMARY KEY (scope, key)
                    );
                    CREATE INDEX idempotency_by_age ON idempotency (created_at);
                    """)
        }
        migrator.registerMigration("2026-11-27 documents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE document (
                        id TEXT PRIMARY KEY NOT NULL,
                        laureate_id TEXT NOT NULL REFERENCES laureate (id),
                        mission_id TEXT REFERENCES mission (id),
                        kind TEXT NOT NULL CHECK (kind IN ('application', 'post_incubation', 'framing_note', 'diagnostic', 'quote',
                            'mission_report', 'satisfaction_review', 'deliverable', 'other')),
                        current_version INTEGER NOT NULL CHECK (current_version >= 1),
                        revision INTEGER NOT NULL UNIQUE,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL,
                        withdrawn_at DATETIME,
                        CHECK ((mission_id IS NULL) = (kind IN ('application', 'post_incubation', 'framing_note')))
                    );
                    CREATE INDEX document_by_revision ON document (revision);
                    CREATE INDEX document_by_laureate ON document (laureate_id);
                    CREATE INDEX document_by_mission ON document (mission_id);

                    CREATE TABLE document_version (
                        document_id TEXT NOT NULL REFERENCES document (id),
                        version INTEGER NOT NULL CHECK (version >= 1),
                        file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
                        media_type TEXT NOT NULL,
                        size INTEGER NOT NULL CHECK (size > 0),
                        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
                        source TEXT NOT NULL CHECK (source IN ('api', 'drive')),
                        conflict INTEGER NOT NULL DEFAULT 0 CHECK (conflict IN (0, 1)),
                        uploader_id TEXT NOT NULL REFERENCES user (id),
                        created_at DATETIME NOT NULL,
                        PRIMARY KEY (document_id, version)
                    );
                    CREATE TRIGGER document_versions_are_kept BEFORE UPDATE ON document_version
                    BEGIN SELECT RAISE(ABORT, 'document versions are kept as uploaded'); END;
                    """)
        }
        migrator.registerMigration("2026-11-28 pooled invitations") { db in
            // An invited laureate takes part only once one of its members joins; every earlier participant had joined.
            try db.execute(sql: "ALTER TABLE mission_participant ADD COLUMN joined INTEGER NOT NULL DEFAULT 1 CHECK (joined IN (0, 1))")
        }
        migrator.registerMigration("2026-11-28 idempotency applied") { db in
            // Set by the write that carried out a keyed request, in that write's own transaction.
            try db.execute(sql: "ALTER TABLE idempotency ADD COLUMN applied_at DATETIME")
        }
        migrator.registerMigration("2026-11-28 sign-up throttling") { db in
            try db.execute(sql: "CREATE TABLE signup_attempt (address TEXT NOT NULL, at DATETIME NOT NULL)")
            try db.execute(sql: "CREATE INDEX signup_attempt_by_address ON signup_attempt (address, at)")
        }
        migrator.registerMigration("2026-11-29 accounts table") { db in
            // `user` is a reserved word in PostgreSQL: one name both databases take unquoted.
            try db.execute(sql: "ALTER TABLE user RENAME TO account")
        }
        migrator.registerMigration("2026-11-29 idempotency claims") { db in
            // Which request holds a key, so a retry may take over the key of a request whose instance died.
            try db.execute(sql: "ALTER TABLE idempotency ADD COLUMN claim TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("2026-11-29 document contents in the database") { db in
            // Used where contents live in the database (PostgreSQL without DOCUMENTS_DIR); kept on both so that the two
            // schemas have one history.
            try db.execute(sql: Migrations.blobTables)
        }
        migrator.registerMigration("2026-11-29 outbox") { db in
            try db.execute(sql: Migrations.outboxTable)
        }
        migrator.registerMigration("2026-11-30 outbox delivery") { db in
            for statement in Migrations.outboxDelivery { try db.execute(sql: statement) }
        }
        migrator.registerMigration("2026-11-30 webhooks") { db in
            for statement in Migrations.webhookTables { try db.execute(sql: statement) }
        }
        migrator.registerMigration("2026-12-01 erasure") { db in
            for statement in Migrations.erasure { try db.execute(sql: statement) }
        }
        return migrator
    }

    /// Notifications written in the transaction of the change that causes them, one row per notice and recipient, each
    /// with a stable id; a worker delivers them (issue 13).
    static let outboxTable = """
        CREATE TABLE outbox (
            id TEXT PRIMARY KEY NOT NULL,
            kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            event_seq BIGINT NOT NULL,
            created_at TEXT NOT NULL,
            delivered_at TEXT
        );
        CREATE INDEX outbox_waiting ON outbox (delivered_at, created_at)
        """

    /// How each notice's delivery went: attempts, when to try again, which worker holds it, how it ended (`delivered`,
    /// `failed` after three days of attempts, `skipped` when e-mail is off or nobody is to be told); and each person's
    /// choice to receive reminders (hand-offs are always sent).
    static let outboxDelivery = [
        "ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT",
        "ALTER TABLE outbox ADD COLUMN claimed_until TEXT",
        "ALTER TABLE outbox ADD COLUMN outcome TEXT CHECK (outcome IN ('delivered', 'failed', 'skipped'))",
        "ALTER TABLE outbox ADD COLUMN last_error TEXT",
        // The accounts a notice already reached (or whose server refused it for good): a retry skips them.
        "ALTER TABLE outbox ADD COLUMN done_for TEXT NOT NULL DEFAULT '[]'",
        // A reminder is queued once per mission, kind, recipient and the step that started the wait.
        "ALTER TABLE outbox ADD COLUMN reminder_key TEXT",
        "CREATE UNIQUE INDEX outbox_reminder ON outbox (reminder_key)",
        "ALTER TABLE account ADD COLUMN reminders BIGINT NOT NULL DEFAULT 1 CHECK (reminders IN (0, 1))",
    ]

    /// When a person was erased at their request (RGPD article 17): their account and card stay as pseudonymised
    /// records of missions, out of every listing.
    static let erasure = ["ALTER TABLE account ADD COLUMN erased_at TEXT", "ALTER TABLE expert ADD COLUMN erased_at TEXT"]

    /// The programme team's webhook subscriptions, and one delivery per event and subscription, written in the
    /// transaction of the change with the resource as it stands after it (`snapshot`); its `id` is the `webhook-id`
    /// receivers see, kept across attempts and replays; its payload is rendered from the snapshot once, at the first
    /// attempt, so every attempt sends the same bytes; `created_at` is the change's time, `queued_at` when the current
    /// round of attempts began (a replay starts a new one).
    static let webhookTables = [
        """
        CREATE TABLE webhook_subscription (
            id TEXT PRIMARY KEY NOT NULL,
            url TEXT NOT NULL,
            event_types TEXT NOT NULL CHECK (json_valid(event_types)),
            description TEXT NOT NULL DEFAULT '',
            secret TEXT NOT NULL,
            active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            revision BIGINT NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE webhook_delivery (
            id TEXT PRIMARY KEY NOT NULL,
            subscription_id TEXT NOT NULL REFERENCES webhook_subscription (id) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            event_seq BIGINT NOT NULL,
            created_at TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            snapshot TEXT,
            payload TEXT,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            claimed_until TEXT,
            delivered_at TEXT,
            outcome TEXT CHECK (outcome IN ('delivered', 'failed')),
            last_status BIGINT,
            last_error TEXT
        )
        """,
        "CREATE INDEX webhook_delivery_waiting ON webhook_delivery (delivered_at, next_attempt_at)",
        "CREATE INDEX webhook_delivery_by_subscription ON webhook_delivery (subscription_id, created_at)",
    ]

    /// Uploads being received, their chunks, and stored contents by digest.
    static let blobTables = """
        CREATE TABLE blob_upload (content_id TEXT PRIMARY KEY NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX blob_upload_by_age ON blob_upload (created_at);
        CREATE TABLE blob_chunk (content_id TEXT NOT NULL, seq BIGINT NOT NULL CHECK (seq >= 0), bytes BYTEA NOT NULL,
            PRIMARY KEY (content_id, seq));
        CREATE TABLE blob (sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64), content_id TEXT NOT NULL UNIQUE,
            size BIGINT NOT NULL CHECK (size > 0), created_at TEXT NOT NULL);
        CREATE INDEX blob_by_age ON blob (created_at)
        """
}
