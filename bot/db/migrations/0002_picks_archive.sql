-- Schema v2: community picks and the scene archive.

CREATE TABLE picks (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    artist        TEXT NOT NULL,
    title         TEXT NOT NULL,
    match_key     TEXT NOT NULL,          -- artist+title folded: case, spacing, punctuation, accents
    link_url      TEXT,
    link_key      TEXT,                   -- one key for every spelling of the same link
    link_platform TEXT,
    label         TEXT,
    year          INTEGER,
    country       TEXT,                   -- ISO 3166-1 alpha-2
    city          TEXT,
    format        TEXT,
    note          TEXT,
    tags          TEXT NOT NULL DEFAULT '',  -- normalised subgenres, space-separated, in order
    shared_by     INTEGER,                -- NULL once the sharer asked to be forgotten
    created_at    INTEGER NOT NULL,
    channel_id    INTEGER,                -- where the pick card is
    message_id    INTEGER,
    edited_at     INTEGER,
    edited_by     INTEGER,
    deleted_at    INTEGER,                -- soft delete; moderators can restore for 30 days
    deleted_by    INTEGER
) STRICT;

CREATE UNIQUE INDEX picks_unique_match ON picks (guild_id, match_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX picks_unique_link ON picks (guild_id, link_key)
    WHERE deleted_at IS NULL AND link_key IS NOT NULL;
CREATE INDEX picks_by_guild_created ON picks (guild_id, created_at);
CREATE INDEX picks_by_guild ON picks (guild_id);  -- (guild_id, id): id ranges per server
CREATE INDEX picks_by_sharer ON picks (shared_by);
CREATE INDEX picks_by_message ON picks (message_id) WHERE message_id IS NOT NULL;

CREATE TABLE pick_tags (
    guild_id  INTEGER NOT NULL,
    tag       TEXT NOT NULL,
    pick_id   INTEGER NOT NULL REFERENCES picks (id) ON DELETE CASCADE,
    PRIMARY KEY (pick_id, tag)
) STRICT;
CREATE INDEX pick_tags_by_tag ON pick_tags (guild_id, tag, pick_id);

-- How often each subgenre and label is used per server, kept by triggers, so autocomplete
-- ("most used first") and "did you mean" never aggregate over a whole archive. Counts include
-- removed picks until they are purged.
CREATE TABLE archive_terms (
    guild_id  INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('tag', 'label')),
    value     TEXT NOT NULL,
    uses      INTEGER NOT NULL,
    PRIMARY KEY (guild_id, kind, value)
) STRICT, WITHOUT ROWID;
CREATE INDEX archive_terms_by_uses ON archive_terms (guild_id, kind, uses DESC);

CREATE TRIGGER archive_terms_tag_added AFTER INSERT ON pick_tags BEGIN
    INSERT INTO archive_terms (guild_id, kind, value, uses) VALUES (new.guild_id, 'tag', new.tag, 1)
    ON CONFLICT DO UPDATE SET uses = uses + 1;
END;
CREATE TRIGGER archive_terms_tag_removed AFTER DELETE ON pick_tags BEGIN
    UPDATE archive_terms SET uses = uses - 1
    WHERE guild_id = old.guild_id AND kind = 'tag' AND value = old.tag;
END;
CREATE TRIGGER archive_terms_label_added AFTER INSERT ON picks WHEN new.label IS NOT NULL BEGIN
    INSERT INTO archive_terms (guild_id, kind, value, uses) VALUES (new.guild_id, 'label', new.label, 1)
    ON CONFLICT DO UPDATE SET uses = uses + 1;
END;
CREATE TRIGGER archive_terms_label_changed AFTER UPDATE OF label ON picks
WHEN old.label IS NOT new.label BEGIN
    UPDATE archive_terms SET uses = uses - 1
    WHERE old.label IS NOT NULL AND guild_id = old.guild_id AND kind = 'label' AND value = old.label;
    INSERT INTO archive_terms (guild_id, kind, value, uses)
    SELECT new.guild_id, 'label', new.label, 1 WHERE new.label IS NOT NULL
    ON CONFLICT DO UPDATE SET uses = uses + 1;
END;
CREATE TRIGGER archive_terms_label_deleted AFTER DELETE ON picks WHEN old.label IS NOT NULL BEGIN
    UPDATE archive_terms SET uses = uses - 1
    WHERE guild_id = old.guild_id AND kind = 'label' AND value = old.label;
END;

-- Picks per server (including removed ones until purged), kept by triggers: search decides from
-- it whether to scope a full-text query by a server token (cheap for a small server in a big
-- database) or by joining on guild_id (cheap when the server is most of the database).
CREATE TABLE archive_sizes (
    guild_id  INTEGER PRIMARY KEY,
    picks     INTEGER NOT NULL
) STRICT;
CREATE TRIGGER archive_sizes_added AFTER INSERT ON picks BEGIN
    INSERT INTO archive_sizes (guild_id, picks) VALUES (new.guild_id, 1)
    ON CONFLICT DO UPDATE SET picks = picks + 1;
END;
CREATE TRIGGER archive_sizes_deleted AFTER DELETE ON picks BEGIN
    UPDATE archive_sizes SET picks = picks - 1 WHERE guild_id = old.guild_id;
END;

CREATE TABLE pick_votes (
    pick_id     INTEGER NOT NULL REFERENCES picks (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('heard', 'loved')),
    user_id     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (pick_id, kind, user_id)
) STRICT;
CREATE INDEX pick_votes_by_user ON pick_votes (user_id);

CREATE TABLE pick_seconds (
    id          INTEGER PRIMARY KEY,
    pick_id     INTEGER NOT NULL REFERENCES picks (id) ON DELETE CASCADE,
    user_id     INTEGER,                -- NULL once the member asked to be forgotten
    note        TEXT,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX pick_seconds_once ON pick_seconds (pick_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX pick_seconds_by_user ON pick_seconds (user_id);

CREATE TABLE pick_links (
    guild_id    INTEGER NOT NULL,
    from_id     INTEGER NOT NULL REFERENCES picks (id) ON DELETE CASCADE,
    to_id       INTEGER NOT NULL REFERENCES picks (id) ON DELETE CASCADE,
    relation    TEXT NOT NULL CHECK (relation IN
                ('influenced-by', 'same-scene', 'reissue-of', 'side-project-of', 'remix-of')),
    created_by  INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id, relation),
    CHECK (from_id <> to_id)
) STRICT;
CREATE INDEX pick_links_by_to ON pick_links (to_id);

-- Full-text index over live picks. External content (the view below) so the text is stored once.
-- `scope` holds one token per server (g<guild_id>) so every search is ANDed to its own server;
-- `facets` holds filter tokens: c<country> f<format> t<tag> y<year> d<decade> u<sharer>.
CREATE VIEW picks_fts_source AS
SELECT
    id,
    'g' || guild_id AS scope,
    artist, title, coalesce(label, '') AS label, coalesce(city, '') AS city,
    coalesce(note, '') AS note, tags,
    trim(
        coalesce('c' || lower(country), '') || ' ' ||
        coalesce('f' || lower(replace(format, '-', '')), '') || ' ' ||
        CASE WHEN tags = '' THEN '' ELSE 't' || replace(replace(tags, '-', ''), ' ', ' t') END || ' ' ||
        coalesce('y' || year, '') || ' ' ||
        coalesce('d' || (year / 10 * 10), '') || ' ' ||
        coalesce('u' || shared_by, '')
    ) AS facets
FROM picks WHERE deleted_at IS NULL;

CREATE VIRTUAL TABLE picks_fts USING fts5(
    scope, artist, title, label, city, note, tags, facets,
    content = 'picks_fts_source', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);

-- Keep picks_fts in step with live picks. The BEFORE triggers read the old row through the view
-- (which shows only live picks), so a soft-deleted pick is removed once and never re-added.
CREATE TRIGGER picks_fts_after_insert AFTER INSERT ON picks BEGIN
    INSERT INTO picks_fts (rowid, scope, artist, title, label, city, note, tags, facets)
    SELECT id, scope, artist, title, label, city, note, tags, facets
    FROM picks_fts_source WHERE id = new.id;
END;

CREATE TRIGGER picks_fts_before_update
BEFORE UPDATE OF guild_id, artist, title, label, city, note, tags, country, format, year,
                 shared_by, deleted_at ON picks
BEGIN
    INSERT INTO picks_fts (picks_fts, rowid, scope, artist, title, label, city, note, tags, facets)
    SELECT 'delete', id, scope, artist, title, label, city, note, tags, facets
    FROM picks_fts_source WHERE id = old.id;
END;

CREATE TRIGGER picks_fts_after_update
AFTER UPDATE OF guild_id, artist, title, label, city, note, tags, country, format, year,
                shared_by, deleted_at ON picks
BEGIN
    INSERT INTO picks_fts (rowid, scope, artist, title, label, city, note, tags, facets)
    SELECT id, scope, artist, title, label, city, note, tags, facets
    FROM picks_fts_source WHERE id = new.id;
END;

CREATE TRIGGER picks_fts_before_delete BEFORE DELETE ON picks BEGIN
    INSERT INTO picks_fts (picks_fts, rowid, scope, artist, title, label, city, note, tags, facets)
    SELECT 'delete', id, scope, artist, title, label, city, note, tags, facets
    FROM picks_fts_source WHERE id = old.id;
END;
