-- Schema v3: the search index folds more letters, and pairs each pick's year and decade with
-- its country, format and each subgenre (y1983cfr, d1980cfr, y1983fcassette, d1980tcoldwave
-- ...), so "French records from 1978-91" reads the short doclists of France-in-those-years
-- instead of intersecting France with every pick of those years: 3-4 times faster at a million
-- picks (bench/archive_bench.py).
-- A compound is the year or decade token followed by the filter token; year tokens are always
-- five characters, so no compound can be mistaken for another token.
--
-- The text columns also fold the letters FTS5's `remove_diacritics` leaves alone, as
-- bot.domain.picks.LETTER_FOLDS does for what members type: Røyksopp is found as royksopp,
-- Ágætis as agaetis, Mœbius as moebius, Łona as lona, Straße as strasse (and each as spelled).
-- The tokenizer folds case itself, so each letter is replaced in both cases (one replace()
-- per letter: SQLite has no translate()).
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
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(artist, 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ß', 'ss'), 'ẞ', 'ss'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ı', 'i') AS artist,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(title, 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ß', 'ss'), 'ẞ', 'ss'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ı', 'i') AS title,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(coalesce(label, ''), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ß', 'ss'), 'ẞ', 'ss'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ı', 'i') AS label,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(coalesce(city, ''), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ß', 'ss'), 'ẞ', 'ss'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ı', 'i') AS city,
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(coalesce(note, ''), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'ø', 'o'), 'Ø', 'o'), 'ß', 'ss'), 'ẞ', 'ss'), 'ð', 'd'), 'Ð', 'd'), 'þ', 'th'), 'Þ', 'th'), 'ł', 'l'), 'Ł', 'l'), 'đ', 'd'), 'Đ', 'd'), 'ı', 'i') AS note,
    tags,
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
