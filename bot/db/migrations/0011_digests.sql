-- Schema v11: weekly digests.
--
-- digest_settings  one row per server that set a digest up: where, when (a local weekday and
--                  minute of the day in a zone), which sections, what a quiet week does.
--   zone           the IANA zone /digest setup was given; NULL follows the server's zone
--                  (/settings server-timezone), read each time the next run is planned.
--   sections_off   the sections moderators turned off (bot.domain.digest.SECTIONS names).
--   enabled        0 after /digest off (the settings are kept for /digest setup).
--   problem        the last thing that stopped a digest, in words, and when (/digest status).
-- digest_posts     one row per digest handled: the weekly one (week = its ISO week in its zone,
--                  status 'posted', 'quiet' (an empty week, skipped as asked), 'skipped' (more
--                  than three days late) or 'failed') or an extra one from /digest now (week
--                  'extra:<n>').
--
-- "New on the map" asks, for each country, city, label and subgenre of the week's picks,
-- whether the server had a live pick with it before the week: each is one seek on these.

CREATE TABLE digest_settings (
    guild_id      INTEGER PRIMARY KEY,
    channel_id    INTEGER NOT NULL,
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    at_minute     INTEGER NOT NULL CHECK (at_minute BETWEEN 0 AND 1439),
    zone          TEXT,
    sections_off  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(sections_off)),
    quiet         TEXT NOT NULL DEFAULT 'post' CHECK (quiet IN ('post', 'skip')),
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    problem       TEXT,
    problem_at    INTEGER,
    updated_at    INTEGER NOT NULL,
    updated_by    INTEGER
) STRICT;

CREATE INDEX digest_settings_by_editor ON digest_settings (updated_by)
    WHERE updated_by IS NOT NULL;

CREATE TABLE digest_posts (
    guild_id      INTEGER NOT NULL,
    week          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('posted', 'quiet', 'skipped', 'failed')),
    channel_id    INTEGER,
    message_id    INTEGER,
    due_at        INTEGER NOT NULL,
    done_at       INTEGER NOT NULL,
    late_by_s     INTEGER NOT NULL DEFAULT 0,
    posted_by     INTEGER,          -- who asked for an extra digest; NULL once forgotten
    PRIMARY KEY (guild_id, week)
) STRICT, WITHOUT ROWID;

CREATE INDEX digest_posts_by_guild_done ON digest_posts (guild_id, done_at);
CREATE INDEX digest_posts_by_poster ON digest_posts (posted_by) WHERE posted_by IS NOT NULL;

CREATE INDEX picks_by_guild_country ON picks (guild_id, country, created_at)
    WHERE country IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX picks_by_guild_city ON picks (guild_id, city COLLATE NOCASE, created_at)
    WHERE city IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX picks_by_guild_label ON picks (guild_id, label COLLATE NOCASE, created_at)
    WHERE label IS NOT NULL AND deleted_at IS NULL;

-- Parties held in a week and swap rounds revealed in one, per server.
CREATE INDEX parties_by_end ON parties (guild_id, ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX swap_rounds_by_reveal ON swap_rounds (guild_id, revealed_at)
    WHERE revealed_at IS NOT NULL;
