-- Schema v10: recommendation swap rounds.
--
-- swap_rounds    one row per round. Ids are AUTOINCREMENT: they name outbox keys (swap:{id}:…).
--   status       'open' (members join) → 'reviewing' (paired; members review) → 'revealed';
--                or 'cancelled' (by its opener or a moderator, or fewer than two members).
--   seed         the pairing's seed, stored so a pairing can be explained and reproduced.
--   One round that is open or reviewing per channel (a partial unique index).
-- swap_entries   what each member brings: the pick's fields as typed (they join the public
--                archive only at the reveal, so an anonymous round stays anonymous), the archive
--                entry it already was (existing_pick_id) or became at the reveal (pick_id), and
--                after pairing whom it was given to (receiver_id).
-- swap_reviews   what a receiver wrote about the entry (the pick) they were given; pick_id once
--                revealed, so /archive show lists the entry's reviews.

CREATE TABLE swap_rounds (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    opener_id       INTEGER,          -- NULL once the opener asked to be forgotten
    theme           TEXT NOT NULL,
    join_until      INTEGER NOT NULL,
    review_until    INTEGER NOT NULL,
    zone            TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('random', 'cross-scene')),
    anonymous       INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    status          TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'reviewing', 'revealed', 'cancelled')),
    card_message_id INTEGER,
    thread_id       INTEGER,
    seed            INTEGER,
    paired_at       INTEGER,
    revealed_at     INTEGER,
    cancel_reason   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (review_until > join_until)
) STRICT;

CREATE UNIQUE INDEX swap_rounds_one_live_per_channel
    ON swap_rounds (channel_id) WHERE status IN ('open', 'reviewing');
CREATE INDEX swap_rounds_by_guild ON swap_rounds (guild_id, status, join_until);

CREATE TABLE swap_entries (
    id              INTEGER PRIMARY KEY,
    round_id        INTEGER NOT NULL REFERENCES swap_rounds (id) ON DELETE CASCADE,
    user_id         INTEGER,          -- NULL once the member asked to be forgotten (kept anonymous)
    artist          TEXT NOT NULL,
    title           TEXT NOT NULL,
    link_url        TEXT,
    note            TEXT,
    country         TEXT,
    city            TEXT,
    label           TEXT,
    year            INTEGER,
    format          TEXT,
    subgenres       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(subgenres)),
    existing_pick_id INTEGER REFERENCES picks (id) ON DELETE SET NULL,
    pick_id         INTEGER REFERENCES picks (id) ON DELETE SET NULL,
    receiver_id     INTEGER,
    joined_at       INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (round_id, user_id)
) STRICT;

CREATE INDEX swap_entries_by_user ON swap_entries (user_id);
CREATE INDEX swap_entries_by_pick ON swap_entries (pick_id) WHERE pick_id IS NOT NULL;
CREATE INDEX swap_entries_by_receiver ON swap_entries (receiver_id, round_id)
    WHERE receiver_id IS NOT NULL;

CREATE TABLE swap_reviews (
    id              INTEGER PRIMARY KEY,
    round_id        INTEGER NOT NULL REFERENCES swap_rounds (id) ON DELETE CASCADE,
    entry_id        INTEGER NOT NULL REFERENCES swap_entries (id) ON DELETE CASCADE,
    reviewer_id     INTEGER,          -- NULL once the reviewer asked to be forgotten
    rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    favourite_track TEXT,
    thoughts        TEXT,
    pick_id         INTEGER REFERENCES picks (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (round_id, reviewer_id),
    UNIQUE (entry_id)
) STRICT;

CREATE INDEX swap_reviews_by_pick ON swap_reviews (pick_id) WHERE pick_id IS NOT NULL;
CREATE INDEX swap_reviews_by_reviewer ON swap_reviews (reviewer_id);
