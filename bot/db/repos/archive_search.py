"""Reading the archive's full-text index (``picks_fts``): search windows, samples, random picks.

The plans these statements serve are made in ``bot.services.archive_search``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.db.rows import fetch_all, fetch_one
from bot.domain.ranking import TEXT_COLUMNS, Candidates

# The newest matches of a search: the window it counts, pages and ranks. The FTS5 table drives
# the join (CROSS JOIN keeps it the outer loop) in rowid order, so SQLite stops reading the
# index as soon as the LIMIT is met: 1,001 of 165,000 matches cost well under a millisecond.
# The server check is what scopes an unscoped expression (see use_scope_token), and the rowid
# bounds (the server's first and last pick) let FTS5 seek past other servers' newer picks
# instead of reading and dropping them one by one.
_RANK_COLUMNS = ", ".join(f"coalesce(p.{c}, '')" for c in TEXT_COLUMNS)
_WINDOW_MATCHED = """
SELECT f.rowid AS id{columns} FROM picks_fts AS f CROSS JOIN picks AS p ON p.id = f.rowid
WHERE picks_fts MATCH :match AND f.rowid BETWEEN :first_id AND :last_id
  AND p.guild_id = :guild_id
ORDER BY f.rowid DESC LIMIT :limit
"""
WINDOW_MATCHED = _WINDOW_MATCHED.format(columns="")
WINDOW_MATCHED_TEXT = _WINDOW_MATCHED.format(columns=", " + _RANK_COLUMNS)
WINDOW_LISTED = """
SELECT p.id FROM picks AS p WHERE p.guild_id = :guild_id AND p.deleted_at IS NULL
ORDER BY p.id DESC LIMIT :limit
"""
# Matches in hand (newest first), checked for the server and, when given, a year range on their
# rows. Walking the list in its own order lets the LIMIT stop the lookups early; an IN (...)
# list would look every id up and sort them all. No ORDER BY, deliberately: with json_each as
# the outer loop of the CROSS JOIN (which SQLite never reorders) rows come in array order, and
# the search tests compare this path with the FTS5 one page by page.
_WINDOW_OF_IDS = """
SELECT p.id{columns} FROM json_each(:ids) AS j CROSS JOIN picks AS p ON p.id = j.value
WHERE p.guild_id = :guild_id AND (:year_from IS NULL OR p.year BETWEEN :year_from AND :year_to)
LIMIT :limit
"""
WINDOW_OF_IDS = _WINDOW_OF_IDS.format(columns="")
WINDOW_OF_IDS_TEXT = _WINDOW_OF_IDS.format(columns=", " + _RANK_COLUMNS)
# The oldest :limit matches of a query within an id range, as one JSON array (thousands of
# one-id rows cost more to hand over). In the index's own order, oldest first: when every
# match has to be read, FTS5 reads forwards about a third faster than backwards.
SAMPLE_MATCHES = """
SELECT json_group_array(id) FROM (
    SELECT rowid AS id FROM picks_fts
    WHERE picks_fts MATCH :match AND rowid BETWEEN :first_id AND :last_id LIMIT :limit
)
"""
# The newest :limit matches of a phrase within an id range, for how common it is (a word's
# document frequency, a search part's share); one such SELECT per phrase, joined by UNION ALL
# (see samples).
PHRASE_SAMPLE = """
SELECT {n}, count(*), min(id) FROM (
    SELECT rowid AS id FROM picks_fts
    WHERE picks_fts MATCH :phrase{n} AND rowid BETWEEN :first_id AND :last_id
    ORDER BY rowid DESC LIMIT :limit
)
"""
# Each min and max is its own index seek (the two together would scan the server's picks).
# :word (or NULL) is a column-filtered word whose presence in the text columns decides whether
# the last word of a query is matched as a prefix (filter tokens such as country "cat", Austria,
# must not count: "cat" would stop finding "Cathedral").
SEARCH_CONTEXT = """
SELECT CASE WHEN :word IS NULL THEN 0
            ELSE EXISTS (SELECT 1 FROM picks_fts WHERE picks_fts MATCH :word) END AS word_known,
       coalesce((SELECT picks FROM archive_sizes WHERE guild_id = :guild_id), 0) AS mine,
       coalesce((SELECT sum(picks) FROM archive_sizes), 0) AS total,
       (SELECT min(id) FROM picks WHERE guild_id = :guild_id) AS first_id,
       (SELECT max(id) FROM picks WHERE guild_id = :guild_id) AS last_id,
       coalesce((SELECT max(id) FROM picks), 0) AS newest_id
"""
# The newest matching pick at or below :pivot (by id) that the member has not heard.
RANDOM_UNHEARD = """
SELECT f.rowid AS id FROM picks_fts f
WHERE picks_fts MATCH :match AND f.rowid <= :pivot
  AND NOT EXISTS (SELECT 1 FROM pick_votes v
                  WHERE v.pick_id = f.rowid AND v.kind = 'heard' AND v.user_id = :user_id)
ORDER BY f.rowid DESC LIMIT 1
"""
RANDOM_UNHEARD_LISTED = """
SELECT p.id FROM picks p
WHERE p.guild_id = :guild_id AND p.deleted_at IS NULL AND p.id <= :pivot
  AND NOT EXISTS (SELECT 1 FROM pick_votes v
                  WHERE v.pick_id = p.id AND v.kind = 'heard' AND v.user_id = :user_id)
ORDER BY p.id DESC LIMIT 1
"""
ID_RANGE = """
SELECT min(id), max(id) FROM picks WHERE guild_id = :guild_id AND deleted_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class SearchContext:
    word_known: bool  # the word asked about is a whole word of the index
    guild_picks: int  # the server's picks (removed ones until purged)
    total_picks: int  # everyone's
    bounds: tuple[int, int] | None  # the server's lowest and highest pick id; None: no picks
    newest_id: int  # the highest pick id in the database


async def search_context(
    conn: aiosqlite.Connection, guild_id: int, word: str | None
) -> SearchContext:
    """What planning a search needs, in one statement; ``word`` is a quoted FTS5 word or None."""
    row = await fetch_one(conn, SEARCH_CONTEXT, {"guild_id": guild_id, "word": word})
    assert row is not None
    bounds = None if row["first_id"] is None else (int(row["first_id"]), int(row["last_id"]))
    return SearchContext(
        bool(row["word_known"]), int(row["mine"]), int(row["total"]), bounds, int(row["newest_id"])
    )


async def search_window(
    conn: aiosqlite.Connection,
    guild_id: int,
    match: str | None,
    bounds: tuple[int, int],
    *,
    limit: int,
    with_text: bool,
) -> Candidates:
    """The server's ``limit`` newest picks matching ``match`` (None: any), newest first; with
    their searchable text when ``with_text``, for ranking. ``bounds``: the server's id range."""
    params: dict[str, Any] = {"guild_id": guild_id, "limit": limit}
    if match is None:
        return Candidates.from_rows(await fetch_all(conn, WINDOW_LISTED, params), False)
    params |= {"match": match, "first_id": bounds[0], "last_id": bounds[1]}
    sql = WINDOW_MATCHED_TEXT if with_text else WINDOW_MATCHED
    return Candidates.from_rows(await fetch_all(conn, sql, params), with_text)


async def oldest_matches(
    conn: aiosqlite.Connection, match: str, bounds: tuple[int, int], limit: int
) -> list[int]:
    """The ids of the ``limit`` oldest matches of ``match`` within ``bounds`` (any server),
    ascending: every match in the range when there are fewer."""
    params = {"match": match, "first_id": bounds[0], "last_id": bounds[1], "limit": limit}
    row = await fetch_one(conn, SAMPLE_MATCHES, params)
    assert row is not None
    ids: list[int] = json.loads(row[0])
    ids.sort()  # SQLite before 3.44 does not promise json_group_array's order (one pass here)
    return ids


async def window_of_ids(
    conn: aiosqlite.Connection,
    guild_id: int,
    ids: Sequence[int],
    years: tuple[int, int] | None,
    *,
    limit: int,
    with_text: bool,
) -> Candidates:
    """Of the picks ``ids``, the server's ``limit`` newest (released within ``years`` when
    given), newest first."""
    params = {
        "guild_id": guild_id, "ids": json.dumps(sorted(ids, reverse=True)), "limit": limit,
        "year_from": years[0] if years else None, "year_to": years[1] if years else None,
    }  # fmt: skip
    sql = WINDOW_OF_IDS_TEXT if with_text else WINDOW_OF_IDS
    return Candidates.from_rows(await fetch_all(conn, sql, params), with_text)


async def samples(
    conn: aiosqlite.Connection,
    phrases: Sequence[str],
    limit: int,
    bounds: tuple[int, int] = (0, 2**63 - 1),
) -> list[tuple[int, int]]:
    """For each phrase, ``(matches, lowest id among them)`` over its ``limit`` newest matches
    within ``bounds`` (by default, the whole index)."""
    if not phrases:
        return []
    sql = " UNION ALL ".join(PHRASE_SAMPLE.format(n=n) for n in range(len(phrases)))
    params: dict[str, Any] = {f"phrase{n}": phrase for n, phrase in enumerate(phrases)}
    params |= {"limit": limit, "first_id": bounds[0], "last_id": bounds[1]}
    rows = await fetch_all(conn, sql, params)
    found = {int(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}
    return [found[n] for n in range(len(phrases))]


async def id_range(conn: aiosqlite.Connection, guild_id: int) -> tuple[int, int] | None:
    row = await fetch_one(conn, ID_RANGE, {"guild_id": guild_id})
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


async def random_unheard(
    conn: aiosqlite.Connection, guild_id: int, match: str | None, pivot: int, user_id: int
) -> int | None:
    """The newest pick at or below ``pivot`` (by id) that matches and ``user_id`` has not heard.
    ``match`` carries the server's scope token; None means any of the server's picks."""
    params = {"guild_id": guild_id, "pivot": pivot, "user_id": user_id}
    if match is None:
        row = await fetch_one(conn, RANDOM_UNHEARD_LISTED, params)
    else:
        row = await fetch_one(conn, RANDOM_UNHEARD, params | {"match": match})
    return None if row is None else int(row["id"])
