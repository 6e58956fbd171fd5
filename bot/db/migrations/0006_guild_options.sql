-- Schema v6: per-server options as rows, one per (server, option), so each feature adds its
-- channels and options (mod-log channel, digest channel and time, party channel, reminder
-- offsets …) without a migration. The value is JSON; bot.domain.guild_options says, for each
-- name, what it holds and how it is parsed. Clearing an option deletes its row. `updated_by`
-- is per option, so /privacy export shows exactly which settings a member set, and
-- /privacy forget clears them there.

CREATE TABLE guild_options (
    guild_id    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL CHECK (json_valid(value)),
    updated_at  INTEGER NOT NULL,
    updated_by  INTEGER,
    PRIMARY KEY (guild_id, name)
) STRICT, WITHOUT ROWID;

CREATE INDEX guild_options_by_editor ON guild_options (updated_by) WHERE updated_by IS NOT NULL;
