-- Schema v8: a pick's id is never given to another pick. SQLite hands out max(id) + 1, so
-- deleting the newest pick (a share whose card could not be posted, a purge, /privacy forget)
-- gave its id to the next share, which then inherited what still named the old one: its card's
-- outbox entry, an old card's buttons, a link someone saved. The highest id ever deleted is kept
-- here; new picks are numbered above it and above every live pick (bot.db.repos.picks).

CREATE TABLE pick_id_high_water (
    only    INTEGER PRIMARY KEY CHECK (only = 1),
    id      INTEGER NOT NULL
) STRICT;

-- Above every live pick, and every pick a card's outbox entry (``pick:<id>:card``) still names.
INSERT INTO pick_id_high_water (only, id)
SELECT 1, max(
    (SELECT coalesce(max(id), 0) FROM picks),
    (SELECT coalesce(max(CAST(substr(key, 6, length(key) - 10) AS INTEGER)), 0)
     FROM outbox WHERE key GLOB 'pick:[0-9]*:card'));

CREATE TRIGGER pick_id_high_water_on_delete AFTER DELETE ON picks
WHEN old.id > (SELECT id FROM pick_id_high_water)
BEGIN
    UPDATE pick_id_high_water SET id = old.id;
END;
