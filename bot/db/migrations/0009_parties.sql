-- Schema v9: listening parties.
--
-- parties        one row per occurrence: a weekly party is a series of rows sharing series_id
--                (the first occurrence's id), each with its own event, card, RSVPs and recap.
--                Ids are AUTOINCREMENT: they name outbox keys (party:{id}:…), which must never
--                meet a reused id.
--   status       'scheduled' → 'running' → 'ended'; or 'cancelled'; or 'missed' (its whole time
--                passed while the bot was down).
--   repeat_weeks 0 (none), 1 (weekly) or 2 (biweekly); zone is the IANA zone its wall time
--                repeats in. next_id is set on the occurrence whose start created the next one.
--   duration_given 1 when the host gave the duration; else it follows the tracklist.
--   beat         how far the run has gone: the number of beats (track markers and side breaks,
--                see bot.domain.markers) already posted.
-- party_tracks   the tracklist, and per track what the run recorded: its marker message, when
--                it was posted, and the reactions it had at the end.
-- party_controls the host's pause / resume / skip, in order: the marker schedule is computed
--                from the start and these.
-- party_rsvps    Going / Maybe / Can't, from the card's buttons (source 'button') or Discord's
--                Interested on the event (source 'event', which counts as Going; a button choice
--                wins over it).
-- party_notices one row per member per notice (a reminder, "the time changed", "cancelled"):
--                sent by DM, or their DMs were closed and they were mentioned in the party
--                channel instead (batch: which mention message). notice: remind:{seconds},
--                moved:{n}, cancelled.
-- party_reminder_optouts  members who turned reminder DMs off in a server.

CREATE TABLE parties (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    host_id         INTEGER,          -- NULL once the host asked to be forgotten
    series_id       INTEGER,
    occurrence      INTEGER NOT NULL DEFAULT 0,
    what            TEXT NOT NULL,
    pick_id         INTEGER REFERENCES picks (id) ON DELETE SET NULL,
    starts_at       INTEGER NOT NULL,
    duration_s      INTEGER NOT NULL CHECK (duration_s > 0),
    duration_given  INTEGER NOT NULL DEFAULT 0 CHECK (duration_given IN (0, 1)),
    zone            TEXT NOT NULL,
    repeat_weeks    INTEGER NOT NULL DEFAULT 0 CHECK (repeat_weeks IN (0, 1, 2)),
    channel_id      INTEGER NOT NULL,
    voice_id        INTEGER,
    voice_name      TEXT,
    link            TEXT,
    description     TEXT,
    side_break_s    INTEGER NOT NULL DEFAULT 30,
    status          TEXT NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'running', 'ended', 'cancelled', 'missed')),
    event_id        INTEGER,
    card_channel_id INTEGER,
    card_message_id INTEGER,
    thread_id       INTEGER,
    playing_message_id INTEGER,
    beat            INTEGER NOT NULL DEFAULT 0,
    started_at      INTEGER,
    ended_at        INTEGER,
    late_by_s       INTEGER,
    cancel_reason   TEXT,
    moves           INTEGER NOT NULL DEFAULT 0,
    next_id         INTEGER,
    writers         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX parties_by_start ON parties (guild_id, starts_at);
CREATE INDEX parties_by_status ON parties (guild_id, status, starts_at);
CREATE INDEX parties_by_pick ON parties (pick_id) WHERE pick_id IS NOT NULL;
CREATE INDEX parties_by_host ON parties (host_id);

CREATE TABLE party_tracks (
    party_id        INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    title           TEXT NOT NULL,
    seconds         INTEGER NOT NULL,
    note            TEXT,
    side            TEXT,
    message_id      INTEGER,
    posted_at       INTEGER,
    reactions       INTEGER,
    PRIMARY KEY (party_id, number)
) STRICT, WITHOUT ROWID;

CREATE TABLE party_controls (
    party_id        INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('pause', 'resume', 'skip')),
    at              INTEGER NOT NULL,
    by_user         INTEGER NOT NULL,
    PRIMARY KEY (party_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE party_rsvps (
    party_id        INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    choice          TEXT NOT NULL CHECK (choice IN ('going', 'maybe', 'cant')),
    source          TEXT NOT NULL CHECK (source IN ('button', 'event')),
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (party_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX party_rsvps_by_user ON party_rsvps (user_id);

CREATE TABLE party_notices (
    party_id        INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    notice          TEXT NOT NULL,
    user_id         INTEGER NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('sent', 'dm_closed')),
    batch           INTEGER,
    PRIMARY KEY (party_id, notice, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX party_notices_by_user ON party_notices (user_id);

CREATE TABLE party_reminder_optouts (
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    since           INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX party_reminder_optouts_by_user ON party_reminder_optouts (user_id);
