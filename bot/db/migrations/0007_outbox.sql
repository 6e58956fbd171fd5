-- Schema v7: the outbox. One row per thing the bot means to post exactly once (a pick's card, a
-- reminder, a digest, a scheduled event), keyed by the job's dedupe key. The row is written
-- before the post and the posted message's (or event's) id after it. A retry sends with the
-- row's nonce and, once Discord may have forgotten the nonce, first looks for the row's marker
-- (a component custom_id, or the event's description) in what is already there.
--   kind      'message': posted by the outbox with a nonce; 'response': posted by the feature as
--             an interaction response (no nonce); 'event': a guild scheduled event.
--   status    'pending' until posted; 'posted' with posted_id; 'dropped' when the thing it was
--             for is gone; 'failed' when Discord refused for good (channel deleted, no access).

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('message', 'response', 'event')),
    guild_id        INTEGER,
    channel_id      INTEGER,
    marker          TEXT NOT NULL,
    nonce_salt      TEXT NOT NULL,
    posted_id       INTEGER,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'posted', 'dropped', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((status = 'posted') = (posted_id IS NOT NULL)),
    CHECK (kind = 'event' OR channel_id IS NOT NULL),
    CHECK (kind <> 'event' OR guild_id IS NOT NULL)
) STRICT;

-- Start-up reconciliation walks the rows not yet posted; keep that a small index.
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
