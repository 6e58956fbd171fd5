-- Schema v3: filter tokens that pair a pick's year and decade with its country, format and each
-- subgenre (y1983cfr, d1980cfr, y1983fcassette, d1980tcoldwave ...), so "French records from
-- 1978-91" reads the short doclists of France-in-those-years instead of intersecting France
-- with every pick of those years: 3-4 times faster at a million picks (bench/archive_bench.py).
-- A compound is the year or decade token followed by the filter token; year tokens are always
-- five characters, so no compound can be mistaken for another token.
--
-- `facets` now holds: c<country> f<format> t<tag> y<year> d<decade> u<sharer>, and for a pick
-- with a year: y<year>c<country> d<decade>c<country>, y<year>f<format> d<decade>f<format>,
-- y<year>t<tag> d<decade>t<tag> for each tag. The triggers read this view by name, so they
-- need no change; the index is rebuilt from it.

DROP VIEW picks_fts_source;

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
        coalesce('y' || year || 'c' || lower(country), '') || ' ' ||
        coalesce('d' || (year / 10 * 10) || 'c' || lower(country), '') || ' ' ||
        coalesce('y' || year || 'f' || lower(replace(format, '-', '')), '') || ' ' ||
        coalesce('d' || (year / 10 * 10) || 'f' || lower(replace(format, '-', '')), '') || ' ' ||
        CASE WHEN tags = '' OR year IS NULL THEN '' ELSE
            'y' || year || 't' || replace(replace(tags, '-', ''), ' ', ' y' || year || 't') || ' ' ||
            'd' || (year / 10 * 10) || 't' ||
            replace(replace(tags, '-', ''), ' ', ' d' || (year / 10 * 10) || 't')
        END || ' ' ||
        coalesce('u' || shared_by, '')
    ) AS facets
FROM picks WHERE deleted_at IS NULL;

INSERT INTO picks_fts (picks_fts) VALUES ('rebuild');
-- Merge the rebuilt index into one segment, as a long-lived index would be after its merges.
INSERT INTO picks_fts (picks_fts) VALUES ('optimize');
