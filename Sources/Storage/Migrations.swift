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
        return migrator
    }
}
