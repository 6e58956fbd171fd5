-- Schema v1: server settings, personal settings, the durable job queue, and bot metadata.
-- Convention: every time is UTC epoch seconds (INTEGER); every server-owned row has guild_id.

CREATE TABLE guild_settings (
    guild_id    INTEGER PRIMARY KEY,
    timezone    TEXT,
    updated_at  INTEGER NOT NULL,
    updated_by  INTEGER
) STRICT;

-- A person's own preferences follow them across servers (a member's time zone is where they
-- live, not where the server is), so these rows are keyed by user, not by (guild, user).
CREATE TABLE user_settings (
    user_id     INTEGER PRIMARY KEY,
    timezone    TEXT,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    guild_id    INTEGER,
    run_at      INTEGER NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    dedupe_key  TEXT UNIQUE,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The runner only ever asks "which pending job is due first": keep that an index seek.
CREATE INDEX jobs_pending_by_run_at ON jobs (run_at) WHERE status = 'pending';
CREATE INDEX jobs_by_guild_status ON jobs (guild_id, status);

CREATE TABLE bot_meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
) STRICT;
