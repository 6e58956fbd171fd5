-- Schema v4: how many picks each server has from each country, kept by triggers like
-- archive_terms, so the country autocomplete offers the server's own countries first (most
-- used first) without aggregating over the archive on every keystroke. Counts include removed
-- picks until they are purged, as archive_terms' do.

CREATE TABLE archive_countries (
    guild_id  INTEGER NOT NULL,
    country   TEXT NOT NULL,          -- ISO 3166-1 alpha-2
    uses      INTEGER NOT NULL,
    PRIMARY KEY (guild_id, country)
) STRICT, WITHOUT ROWID;

INSERT INTO archive_countries (guild_id, country, uses)
SELECT guild_id, country, count(*) FROM picks WHERE country IS NOT NULL GROUP BY guild_id, country;

CREATE TRIGGER archive_countries_added AFTER INSERT ON picks WHEN new.country IS NOT NULL BEGIN
    INSERT INTO archive_countries (guild_id, country, uses) VALUES (new.guild_id, new.country, 1)
    ON CONFLICT DO UPDATE SET uses = uses + 1;
END;
CREATE TRIGGER archive_countries_changed AFTER UPDATE OF country ON picks
WHEN old.country IS NOT new.country BEGIN
    UPDATE archive_countries SET uses = uses - 1
    WHERE old.country IS NOT NULL AND guild_id = old.guild_id AND country = old.country;
    INSERT INTO archive_countries (guild_id, country, uses)
    SELECT new.guild_id, new.country, 1 WHERE new.country IS NOT NULL
    ON CONFLICT DO UPDATE SET uses = uses + 1;
END;
CREATE TRIGGER archive_countries_deleted AFTER DELETE ON picks WHEN old.country IS NOT NULL BEGIN
    UPDATE archive_countries SET uses = uses - 1
    WHERE guild_id = old.guild_id AND country = old.country;
END;
