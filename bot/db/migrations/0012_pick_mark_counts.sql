-- Schema v12: each pick carries its Heard and Loved counts, so reading picks never counts marks.
--
-- picks.heard_count, picks.loved_count  how many members marked the pick Heard it / Loved it,
--                  kept by triggers on pick_votes (a mark added, removed, or a pick's marks
--                  going with it), filled in here from the marks a database already holds.
--
-- A weekly digest reads every pick of a server's week with its counts ("Most loved", curators,
-- the chart): picks_week covers that read (and "From the archive", the best of a past week),
-- one range of one index per week, in the order the picks were shared, instead of a row and
-- two counts per pick.

ALTER TABLE picks ADD COLUMN heard_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE picks ADD COLUMN loved_count INTEGER NOT NULL DEFAULT 0;

UPDATE picks SET
    heard_count = (SELECT count(*) FROM pick_votes v WHERE v.pick_id = picks.id AND v.kind = 'heard'),
    loved_count = (SELECT count(*) FROM pick_votes v WHERE v.pick_id = picks.id AND v.kind = 'loved')
WHERE id IN (SELECT DISTINCT pick_id FROM pick_votes);

CREATE TRIGGER pick_mark_counts_added AFTER INSERT ON pick_votes BEGIN
    UPDATE picks SET heard_count = heard_count + (new.kind = 'heard'),
                     loved_count = loved_count + (new.kind = 'loved')
    WHERE id = new.pick_id;
END;

CREATE TRIGGER pick_mark_counts_removed AFTER DELETE ON pick_votes BEGIN
    UPDATE picks SET heard_count = heard_count - (old.kind = 'heard'),
                     loved_count = loved_count - (old.kind = 'loved')
    WHERE id = old.pick_id;
END;

CREATE TRIGGER pick_mark_counts_changed AFTER UPDATE OF pick_id, kind ON pick_votes BEGIN
    UPDATE picks SET heard_count = heard_count - (old.kind = 'heard'),
                     loved_count = loved_count - (old.kind = 'loved')
    WHERE id = old.pick_id;
    UPDATE picks SET heard_count = heard_count + (new.kind = 'heard'),
                     loved_count = loved_count + (new.kind = 'loved')
    WHERE id = new.pick_id;
END;

-- deleted_at (always NULL here) is among the columns so that SQLite sees the index covers a
-- query that says deleted_at IS NULL.
CREATE INDEX picks_week ON picks (
    guild_id, created_at, id, loved_count, heard_count, shared_by, country, city, label, tags,
    deleted_at
) WHERE deleted_at IS NULL;
