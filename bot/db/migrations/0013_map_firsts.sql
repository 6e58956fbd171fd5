-- Schema v13: when each country, city, label and subgenre first appeared on a server's live
-- picks, so a weekly digest's "new on the map" reads the few values first seen since its week
-- began instead of asking, for every value of the week (hundreds on a busy server), whether an
-- earlier live pick had it.
--
-- map_firsts     one row per server, kind and value ever on a live pick:
--   key          the value as the digest compares it: cities and labels with ASCII letters
--                lowered (lower() folds only those, as NOCASE does), countries and subgenres
--                as stored.
--   first_at     the earliest created_at of the server's live picks with it; NULL once none
--                has it (the row stays, and comes back to life with the next such pick).
--
-- Kept by triggers: a pick shared, edited, removed, restored or deleted, a subgenre added or
-- taken off. Only when the pick that goes (or changes) was the first is the earliest looked for
-- again, on the partial indexes of migration 0011 (pick_tags_by_tag for subgenres).

CREATE TABLE map_firsts (
    guild_id  INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('country', 'city', 'label', 'subgenre')),
    key       TEXT NOT NULL,
    first_at  INTEGER,
    PRIMARY KEY (guild_id, kind, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX map_firsts_by_time ON map_firsts (guild_id, first_at) WHERE first_at IS NOT NULL;

INSERT INTO map_firsts (guild_id, kind, key, first_at)
SELECT guild_id, 'country', country, min(created_at) FROM picks
WHERE country IS NOT NULL AND deleted_at IS NULL GROUP BY guild_id, country;
INSERT INTO map_firsts (guild_id, kind, key, first_at)
SELECT guild_id, 'city', lower(city), min(created_at) FROM picks
WHERE city IS NOT NULL AND deleted_at IS NULL GROUP BY guild_id, lower(city);
INSERT INTO map_firsts (guild_id, kind, key, first_at)
SELECT guild_id, 'label', lower(label), min(created_at) FROM picks
WHERE label IS NOT NULL AND deleted_at IS NULL GROUP BY guild_id, lower(label);
INSERT INTO map_firsts (guild_id, kind, key, first_at)
SELECT t.guild_id, 'subgenre', t.tag, min(p.created_at) FROM pick_tags t JOIN picks p ON p.id = t.pick_id
WHERE p.deleted_at IS NULL GROUP BY t.guild_id, t.tag;

-- A live pick's values: each one's first_at is at most the pick's.
CREATE TRIGGER map_firsts_pick_added AFTER INSERT ON picks WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO map_firsts (guild_id, kind, key, first_at)
    SELECT new.guild_id, 'country', new.country, new.created_at WHERE new.country IS NOT NULL
    UNION ALL
    SELECT new.guild_id, 'city', lower(new.city), new.created_at WHERE new.city IS NOT NULL
    UNION ALL
    SELECT new.guild_id, 'label', lower(new.label), new.created_at WHERE new.label IS NOT NULL
    ON CONFLICT (guild_id, kind, key) DO UPDATE
    SET first_at = min(coalesce(first_at, excluded.first_at), excluded.first_at);
END;

CREATE TRIGGER map_firsts_tag_added AFTER INSERT ON pick_tags BEGIN
    INSERT INTO map_firsts (guild_id, kind, key, first_at)
    SELECT new.guild_id, 'subgenre', new.tag, p.created_at FROM picks p
    WHERE p.id = new.pick_id AND p.deleted_at IS NULL
    ON CONFLICT (guild_id, kind, key) DO UPDATE
    SET first_at = min(coalesce(first_at, excluded.first_at), excluded.first_at);
END;

-- A subgenre taken off a live pick (an edit): if that pick was its first, look again.
CREATE TRIGGER map_firsts_tag_removed AFTER DELETE ON pick_tags BEGIN
    UPDATE map_firsts SET first_at = (
        SELECT min(p.created_at) FROM pick_tags t JOIN picks p ON p.id = t.pick_id
        WHERE t.guild_id = old.guild_id AND t.tag = old.tag AND p.deleted_at IS NULL)
    WHERE guild_id = old.guild_id AND kind = 'subgenre' AND key = old.tag
      AND first_at = (SELECT created_at FROM picks WHERE id = old.pick_id AND deleted_at IS NULL);
END;

-- A pick edited, removed or restored: its old values, if it was their first, are looked for
-- again (the pick as it is now counts, if live), then its new values count if it is live.
CREATE TRIGGER map_firsts_pick_changed
AFTER UPDATE OF guild_id, country, city, label, created_at, deleted_at ON picks BEGIN
    UPDATE map_firsts SET first_at = CASE kind
        WHEN 'country' THEN (SELECT min(created_at) FROM picks WHERE guild_id = old.guild_id
                             AND country = old.country AND deleted_at IS NULL)
        WHEN 'city' THEN (SELECT min(created_at) FROM picks WHERE guild_id = old.guild_id
                          AND city = old.city COLLATE NOCASE AND deleted_at IS NULL)
        ELSE (SELECT min(created_at) FROM picks WHERE guild_id = old.guild_id
              AND label = old.label COLLATE NOCASE AND deleted_at IS NULL)
    END
    WHERE old.deleted_at IS NULL AND guild_id = old.guild_id AND first_at = old.created_at
      AND ((kind = 'country' AND key = old.country) OR (kind = 'city' AND key = lower(old.city))
           OR (kind = 'label' AND key = lower(old.label)));
    UPDATE map_firsts SET first_at = (
        SELECT min(p.created_at) FROM pick_tags t JOIN picks p ON p.id = t.pick_id
        WHERE t.guild_id = map_firsts.guild_id AND t.tag = map_firsts.key
          AND p.deleted_at IS NULL)
    WHERE old.deleted_at IS NULL AND guild_id = old.guild_id AND kind = 'subgenre'
      AND first_at = old.created_at
      AND key IN (SELECT tag FROM pick_tags WHERE pick_id = old.id);
    INSERT INTO map_firsts (guild_id, kind, key, first_at)
    SELECT new.guild_id, 'country', new.country, new.created_at
    WHERE new.deleted_at IS NULL AND new.country IS NOT NULL
    UNION ALL
    SELECT new.guild_id, 'city', lower(new.city), new.created_at
    WHERE new.deleted_at IS NULL AND new.city IS NOT NULL
    UNION ALL
    SELECT new.guild_id, 'label', lower(new.label), new.created_at
    WHERE new.deleted_at IS NULL AND new.label IS NOT NULL
    UNION ALL
    SELECT new.guild_id, 'subgenre', tag, new.created_at FROM pick_tags
    WHERE new.deleted_at IS NULL AND pick_id = new.id
    ON CONFLICT (guild_id, kind, key) DO UPDATE
    SET first_at = min(coalesce(first_at, excluded.first_at), excluded.first_at);
END;

-- A live pick deleted for good (its card never posted, or a member forgotten with their
-- picks): before it goes, with its subgenres still there, look again for each value it was the
-- first of, without it. (A removed pick purged later was no value's first any more.)
CREATE TRIGGER map_firsts_pick_deleted BEFORE DELETE ON picks WHEN old.deleted_at IS NULL BEGIN
    UPDATE map_firsts SET first_at = CASE kind
        WHEN 'country' THEN (SELECT min(created_at) FROM picks WHERE guild_id = old.guild_id
                             AND country = old.country AND deleted_at IS NULL AND id != old.id)
        WHEN 'city' THEN (SELECT min(created_at) FROM picks WHERE guild_id = old.guild_id
                          AND city = old.city COLLATE NOCASE AND deleted_at IS NULL
                          AND id != old.id)
        WHEN 'label' THEN (SELECT min(created_at) FROM picks WHERE guild_id = old.guild_id
                           AND label = old.label COLLATE NOCASE AND deleted_at IS NULL
                           AND id != old.id)
        ELSE (SELECT min(p.created_at) FROM pick_tags t JOIN picks p ON p.id = t.pick_id
              WHERE t.guild_id = map_firsts.guild_id AND t.tag = map_firsts.key
                AND p.deleted_at IS NULL AND p.id != old.id)
    END
    WHERE guild_id = old.guild_id AND first_at = old.created_at
      AND ((kind = 'country' AND key = old.country) OR (kind = 'city' AND key = lower(old.city))
           OR (kind = 'label' AND key = lower(old.label))
           OR (kind = 'subgenre' AND key IN (SELECT tag FROM pick_tags WHERE pick_id = old.id)));
END;
