"""Picks, their tags, votes, seconds and lineage links, and the full-text archive search."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.db.rows import fetch_all, fetch_one
from bot.domain.archive_format import ImportedEntry
from bot.domain.picks import LineageEdge, Pick, PickDraft, Second
from bot.domain.ranking import TEXT_COLUMNS, Candidates

PICK_COLUMNS = """
    p.id, p.guild_id, p.artist, p.title, p.link_url, p.link_platform, p.tags, p.label, p.year,
    p.country, p.city, p.format, p.note, p.shared_by, p.created_at, p.channel_id, p.message_id,
    p.edited_at, p.edited_by, p.deleted_at,
    (SELECT count(*) FROM pick_votes v WHERE v.pick_id = p.id AND v.kind = 'heard') AS heard,
    (SELECT count(*) FROM pick_votes v WHERE v.pick_id = p.id AND v.kind = 'loved') AS loved
"""

# Two lookups, each an index seek on a partial unique index (an OR would scan the server).
FIND_BY_MATCH_KEY = f"""
SELECT {PICK_COLUMNS} FROM picks p
WHERE p.guild_id = :guild_id AND p.match_key = :match_key AND p.deleted_at IS NULL
"""
FIND_BY_LINK_KEY = f"""
SELECT {PICK_COLUMNS} FROM picks p
WHERE p.guild_id = :guild_id AND p.link_key = :link_key AND p.deleted_at IS NULL
"""
# :id NULL takes the next id (an INTEGER PRIMARY KEY); an import gives its own.
INSERT_PICK_WITH_ID = """
INSERT INTO picks (id, guild_id, artist, title, match_key, link_url, link_key, link_platform,
                   label, year, country, city, format, note, tags, shared_by, created_at)
VALUES (:id, :guild_id, :artist, :title, :match_key, :link_url, :link_key, :link_platform,
        :label, :year, :country, :city, :format, :note, :tags, :shared_by, :created_at)
"""
INSERT_PICK = INSERT_PICK_WITH_ID + "RETURNING id"
INSERT_TAG = "INSERT INTO pick_tags (guild_id, tag, pick_id) VALUES (:guild_id, :tag, :pick_id)"
DELETE_TAGS = "DELETE FROM pick_tags WHERE pick_id = :pick_id"
SET_CARD = "UPDATE picks SET channel_id = :channel_id, message_id = :message_id WHERE id = :pick_id"
GET_PICK = f"SELECT {PICK_COLUMNS} FROM picks p WHERE p.guild_id = :guild_id AND p.id = :pick_id"
GET_PICKS = f"""
SELECT {PICK_COLUMNS} FROM picks p
WHERE p.guild_id = :guild_id AND p.id IN (SELECT value FROM json_each(:ids))
"""
UPDATE_PICK = """
UPDATE picks SET artist = :artist, title = :title, match_key = :match_key, link_url = :link_url,
    link_key = :link_key, link_platform = :link_platform, label = :label, year = :year,
    country = :country, city = :city, format = :format, note = :note, tags = :tags,
    edited_at = :now, edited_by = :user_id
WHERE id = :pick_id
"""
GET_KEYS = "SELECT guild_id, match_key, link_key FROM picks WHERE id = :pick_id"
SOFT_DELETE = "UPDATE picks SET deleted_at = :now, deleted_by = :user_id WHERE id = :pick_id"
RESTORE = "UPDATE picks SET deleted_at = NULL, deleted_by = NULL WHERE id = :pick_id"
DELETE_UNPOSTED = """
DELETE FROM picks WHERE guild_id = :guild_id AND id = :pick_id AND message_id IS NULL
"""
PURGE_REMOVED = "DELETE FROM picks WHERE deleted_at IS NOT NULL AND deleted_at < :before"

ADD_VOTE = """
INSERT INTO pick_votes (pick_id, kind, user_id, created_at) VALUES (:pick_id, :kind, :user_id, :now)
ON CONFLICT DO NOTHING
"""
REMOVE_VOTE = (
    "DELETE FROM pick_votes WHERE pick_id = :pick_id AND kind = :kind AND user_id = :user_id"
)
HAS_VOTE = (
    "SELECT 1 FROM pick_votes WHERE pick_id = :pick_id AND kind = :kind AND user_id = :user_id"
)

ADD_SECOND = """
INSERT INTO pick_seconds (pick_id, user_id, note, created_at) VALUES (:pick_id, :user_id, :note, :now)
ON CONFLICT (pick_id, user_id) WHERE user_id IS NOT NULL
DO UPDATE SET note = coalesce(excluded.note, pick_seconds.note)
"""
LIST_SECONDS = """
SELECT pick_id, user_id, note, created_at FROM pick_seconds WHERE pick_id = :pick_id ORDER BY id
"""

INSERT_LINK = """
INSERT INTO pick_links (guild_id, from_id, to_id, relation, created_by, created_at)
VALUES (:guild_id, :from_id, :to_id, :relation, :user_id, :now)
"""
LINK_EXISTS = """
SELECT relation FROM pick_links
WHERE (from_id = :from_id AND to_id = :to_id) OR (from_id = :to_id AND to_id = :from_id)
"""
# Two steps each way. Only live picks take part; a removed pick cuts the chain.
LINEAGE = """
WITH RECURSIVE
up(from_id, to_id, relation, depth) AS (
    SELECT l.from_id, l.to_id, l.relation, 1 FROM pick_links l
    JOIN picks t ON t.id = l.to_id AND t.deleted_at IS NULL
    WHERE l.from_id = :pick_id
    UNION
    SELECT l.from_id, l.to_id, l.relation, up.depth + 1 FROM pick_links l
    JOIN up ON l.from_id = up.to_id
    JOIN picks t ON t.id = l.to_id AND t.deleted_at IS NULL
    WHERE up.depth < 2 AND l.to_id <> :pick_id
),
down(from_id, to_id, relation, depth) AS (
    SELECT l.from_id, l.to_id, l.relation, 1 FROM pick_links l
    JOIN picks f ON f.id = l.from_id AND f.deleted_at IS NULL
    WHERE l.to_id = :pick_id
    UNION
    SELECT l.from_id, l.to_id, l.relation, down.depth + 1 FROM pick_links l
    JOIN down ON l.to_id = down.from_id
    JOIN picks f ON f.id = l.from_id AND f.deleted_at IS NULL
    WHERE down.depth < 2 AND l.from_id <> :pick_id
)
SELECT 'up' AS direction, * FROM up UNION ALL SELECT 'down', * FROM down
"""

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
TOP_TERMS = """
SELECT value, uses FROM archive_terms
WHERE guild_id = :guild_id AND kind = :kind AND uses > 0 AND instr(value, :needle) > 0
ORDER BY uses DESC, value LIMIT :limit
"""
COUNTRY_USES = """
SELECT country, uses FROM archive_countries WHERE guild_id = :guild_id AND uses > 0
ORDER BY uses DESC, country
"""
EXPORT_BATCH = f"""
SELECT {PICK_COLUMNS},
    (SELECT group_concat(l.relation || ':' || l.to_id, ';') FROM pick_links l
     JOIN picks t ON t.id = l.to_id AND t.deleted_at IS NULL
     WHERE l.from_id = p.id) AS lineage
FROM picks p
WHERE p.guild_id = :guild_id AND p.deleted_at IS NULL AND p.id > :after
ORDER BY p.id LIMIT :limit
"""
SECONDS_OF = """
SELECT pick_id, user_id, note, created_at FROM pick_seconds
WHERE pick_id IN (SELECT value FROM json_each(:ids)) ORDER BY id
"""
INSERT_SECOND_AT = """
INSERT INTO pick_seconds (pick_id, user_id, note, created_at) VALUES (:pick_id, :user_id, :note, :at)
ON CONFLICT DO NOTHING
"""
FIND_EXISTING_KEYS = f"""
SELECT {PICK_COLUMNS}, p.match_key, p.link_key FROM picks p
WHERE p.guild_id = :guild_id AND p.deleted_at IS NULL
  AND p.match_key IN (SELECT value FROM json_each(:match_keys))
UNION
SELECT {PICK_COLUMNS}, p.match_key, p.link_key FROM picks p
WHERE p.guild_id = :guild_id AND p.deleted_at IS NULL
  AND p.link_key IN (SELECT value FROM json_each(:link_keys))
"""
MAX_PICK_ID = "SELECT coalesce(max(id), 0) FROM picks"
COUNT_LIVE = "SELECT count(*) FROM picks WHERE guild_id = :guild_id AND deleted_at IS NULL"
STATS = {
    "subgenres": """SELECT tag, count(*) FROM pick_tags t JOIN picks p ON p.id = t.pick_id
                    WHERE t.guild_id = :guild_id AND p.deleted_at IS NULL
                    GROUP BY tag ORDER BY 2 DESC, 1 LIMIT :limit""",
    "countries": """SELECT country, count(*) FROM picks WHERE guild_id = :guild_id
                    AND deleted_at IS NULL AND country IS NOT NULL
                    GROUP BY country ORDER BY 2 DESC, 1 LIMIT :limit""",
    "labels": """SELECT label, count(*) FROM picks WHERE guild_id = :guild_id
                 AND deleted_at IS NULL AND label IS NOT NULL
                 GROUP BY label COLLATE NOCASE ORDER BY 2 DESC, 1 LIMIT :limit""",
    "decades": """SELECT (year / 10 * 10) || 's', count(*) FROM picks WHERE guild_id = :guild_id
                  AND deleted_at IS NULL AND year IS NOT NULL
                  GROUP BY year / 10 ORDER BY 2 DESC, 1 LIMIT :limit""",
    "formats": """SELECT format, count(*) FROM picks WHERE guild_id = :guild_id
                  AND deleted_at IS NULL AND format IS NOT NULL
                  GROUP BY format ORDER BY 2 DESC, 1 LIMIT :limit""",
    "curators": """SELECT shared_by, count(*) FROM picks WHERE guild_id = :guild_id
                   AND deleted_at IS NULL AND shared_by IS NOT NULL
                   GROUP BY shared_by ORDER BY 2 DESC, 1 LIMIT :limit""",
}

# Privacy.
USER_PICKS = f"SELECT {PICK_COLUMNS} FROM picks p WHERE p.shared_by = :user_id ORDER BY p.id"
USER_VOTES = """
SELECT v.pick_id, p.guild_id, v.kind, v.created_at FROM pick_votes v JOIN picks p ON p.id = v.pick_id
WHERE v.user_id = :user_id ORDER BY v.pick_id
"""
USER_SECONDS = """
SELECT s.pick_id, p.guild_id, s.note, s.created_at FROM pick_seconds s
JOIN picks p ON p.id = s.pick_id WHERE s.user_id = :user_id ORDER BY s.id
"""
USER_LINKS = """
SELECT guild_id, from_id, to_id, relation, created_at FROM pick_links
WHERE created_by = :user_id ORDER BY created_at
"""
USER_EDITS = """
SELECT id AS pick_id, guild_id, edited_at FROM picks WHERE edited_by = :user_id ORDER BY id
"""
USER_REMOVALS = """
SELECT id AS pick_id, guild_id, deleted_at FROM picks WHERE deleted_by = :user_id ORDER BY id
"""
USER_CARDS = """
SELECT id, guild_id, channel_id, message_id FROM picks
WHERE shared_by = :user_id AND message_id IS NOT NULL
"""
FORGET_VOTES = "DELETE FROM pick_votes WHERE user_id = :user_id"
DELETE_USER_PICKS = "DELETE FROM picks WHERE shared_by = :user_id"
DELETE_USER_SECONDS = "DELETE FROM pick_seconds WHERE user_id = :user_id"
ANONYMISE_PICKS = "UPDATE picks SET shared_by = NULL WHERE shared_by = :user_id"
ANONYMISE_SECONDS = "UPDATE pick_seconds SET user_id = NULL WHERE user_id = :user_id"
FORGET_TRACES = (
    "UPDATE picks SET edited_by = NULL WHERE edited_by = :user_id",
    "UPDATE picks SET deleted_by = NULL WHERE deleted_by = :user_id",
    "UPDATE pick_links SET created_by = NULL WHERE created_by = :user_id",
)


def row_to_pick(row: aiosqlite.Row) -> Pick:
    return Pick(
        id=row["id"],
        guild_id=row["guild_id"],
        artist=row["artist"],
        title=row["title"],
        link_url=row["link_url"],
        link_platform=row["link_platform"],
        subgenres=tuple(row["tags"].split()) if row["tags"] else (),
        label=row["label"],
        year=row["year"],
        country=row["country"],
        city=row["city"],
        format=row["format"],
        note=row["note"],
        shared_by=row["shared_by"],
        created_at=row["created_at"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        edited_at=row["edited_at"],
        edited_by=row["edited_by"],
        deleted_at=row["deleted_at"],
        heard=row["heard"],
        loved=row["loved"],
    )


def _draft_params(draft: PickDraft) -> dict[str, Any]:
    return {
        "artist": draft.artist,
        "title": draft.title,
        "match_key": draft.match_key,
        "link_url": draft.link.url if draft.link else None,
        "link_key": draft.link.key if draft.link else None,
        "link_platform": draft.link.platform if draft.link else None,
        "label": draft.label,
        "year": draft.year,
        "country": draft.country,
        "city": draft.city,
        "format": draft.format,
        "note": draft.note,
        "tags": " ".join(draft.subgenres),
    }


async def find_duplicate(
    conn: aiosqlite.Connection,
    guild_id: int,
    match_key: str,
    link_key: str | None,
    *,
    other_than: int | None = None,
) -> Pick | None:
    """A live pick (other than ``other_than``) with the same artist/title key or the same link."""
    candidates = [
        await fetch_one(conn, FIND_BY_MATCH_KEY, {"guild_id": guild_id, "match_key": match_key})
    ]
    if link_key is not None:
        candidates.append(
            await fetch_one(conn, FIND_BY_LINK_KEY, {"guild_id": guild_id, "link_key": link_key})
        )
    for row in candidates:
        if row is not None and row["id"] != other_than:
            return row_to_pick(row)
    return None


async def insert_pick(
    conn: aiosqlite.Connection,
    guild_id: int,
    draft: PickDraft,
    shared_by: int | None,
    created_at: int,
) -> int:
    params = _draft_params(draft) | {
        "id": None,
        "guild_id": guild_id,
        "shared_by": shared_by,
        "created_at": created_at,
    }
    row = await fetch_one(conn, INSERT_PICK, params)
    assert row is not None
    pick_id = int(row["id"])
    await _insert_tags(conn, guild_id, pick_id, draft.subgenres)
    return pick_id


async def _insert_tags(
    conn: aiosqlite.Connection, guild_id: int, pick_id: int, tags: Sequence[str]
) -> None:
    await conn.executemany(
        INSERT_TAG, [{"guild_id": guild_id, "tag": tag, "pick_id": pick_id} for tag in tags]
    )


async def update_pick(
    conn: aiosqlite.Connection,
    guild_id: int,
    pick_id: int,
    draft: PickDraft,
    user_id: int,
    now: int,
) -> None:
    await conn.execute(
        UPDATE_PICK, _draft_params(draft) | {"pick_id": pick_id, "user_id": user_id, "now": now}
    )
    await conn.execute(DELETE_TAGS, {"pick_id": pick_id})
    await _insert_tags(conn, guild_id, pick_id, draft.subgenres)


async def set_card(
    conn: aiosqlite.Connection, pick_id: int, channel_id: int, message_id: int
) -> None:
    await conn.execute(
        SET_CARD, {"pick_id": pick_id, "channel_id": channel_id, "message_id": message_id}
    )


async def get_pick(conn: aiosqlite.Connection, guild_id: int, pick_id: int) -> Pick | None:
    """The pick, removed or not (callers decide what a removed pick means)."""
    row = await fetch_one(conn, GET_PICK, {"guild_id": guild_id, "pick_id": pick_id})
    return None if row is None else row_to_pick(row)


async def get_picks(
    conn: aiosqlite.Connection, guild_id: int, ids: Sequence[int]
) -> dict[int, Pick]:
    rows = await fetch_all(conn, GET_PICKS, {"guild_id": guild_id, "ids": json.dumps(list(ids))})
    return {row["id"]: row_to_pick(row) for row in rows}


async def find_restore_clash(conn: aiosqlite.Connection, pick_id: int) -> Pick | None:
    """A live pick that restoring the removed ``pick_id`` would duplicate, if any."""
    keys = await fetch_one(conn, GET_KEYS, {"pick_id": pick_id})
    if keys is None:
        return None
    return await find_duplicate(
        conn, keys["guild_id"], keys["match_key"], keys["link_key"], other_than=pick_id
    )


async def soft_delete(conn: aiosqlite.Connection, pick_id: int, user_id: int, now: int) -> None:
    await conn.execute(SOFT_DELETE, {"pick_id": pick_id, "user_id": user_id, "now": now})


async def restore(conn: aiosqlite.Connection, pick_id: int) -> None:
    await conn.execute(RESTORE, {"pick_id": pick_id})


async def purge_removed(conn: aiosqlite.Connection, before: int) -> int:
    cursor = await conn.execute(PURGE_REMOVED, {"before": before})
    return cursor.rowcount


async def toggle_vote(
    conn: aiosqlite.Connection, pick_id: int, kind: str, user_id: int, now: int
) -> bool:
    """Add the vote if absent, remove it if present; return whether it is now set."""
    params = {"pick_id": pick_id, "kind": kind, "user_id": user_id}
    if await fetch_one(conn, HAS_VOTE, params) is not None:
        await conn.execute(REMOVE_VOTE, params)
        return False
    await conn.execute(ADD_VOTE, params | {"now": now})
    return True


async def add_second(
    conn: aiosqlite.Connection, pick_id: int, user_id: int, note: str | None, now: int
) -> None:
    await conn.execute(
        ADD_SECOND, {"pick_id": pick_id, "user_id": user_id, "note": note, "now": now}
    )


async def list_seconds(conn: aiosqlite.Connection, pick_id: int) -> list[Second]:
    rows = await fetch_all(conn, LIST_SECONDS, {"pick_id": pick_id})
    return [Second(r["pick_id"], r["user_id"], r["note"], r["created_at"]) for r in rows]


async def existing_link(conn: aiosqlite.Connection, from_id: int, to_id: int) -> list[str]:
    rows = await fetch_all(conn, LINK_EXISTS, {"from_id": from_id, "to_id": to_id})
    return [str(r["relation"]) for r in rows]


async def insert_link(
    conn: aiosqlite.Connection,
    guild_id: int,
    from_id: int,
    to_id: int,
    relation: str,
    user_id: int | None,
    now: int,
) -> None:
    await conn.execute(
        INSERT_LINK,
        {"guild_id": guild_id, "from_id": from_id, "to_id": to_id, "relation": relation,
         "user_id": user_id, "now": now},
    )  # fmt: skip


async def lineage(
    conn: aiosqlite.Connection, pick_id: int
) -> tuple[list[LineageEdge], list[LineageEdge]]:
    """``(grew_from, grew_into)``: edges up to two steps from ``pick_id`` in each direction."""
    edges: dict[str, list[LineageEdge]] = {"up": [], "down": []}
    for r in await fetch_all(conn, LINEAGE, {"pick_id": pick_id}):
        edges[r["direction"]].append(
            LineageEdge(r["from_id"], r["to_id"], r["relation"], r["depth"])
        )
    return edges["up"], edges["down"]


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


async def top_tags(
    conn: aiosqlite.Connection, guild_id: int, needle: str, limit: int
) -> list[tuple[str, int]]:
    """The server's subgenres containing ``needle``, most used first."""
    params = {"guild_id": guild_id, "kind": "tag", "needle": needle, "limit": limit}
    return [(str(r["value"]), int(r["uses"])) for r in await fetch_all(conn, TOP_TERMS, params)]


async def top_labels(conn: aiosqlite.Connection, guild_id: int, limit: int) -> list[str]:
    params = {"guild_id": guild_id, "kind": "label", "needle": "", "limit": limit}
    return [str(r["value"]) for r in await fetch_all(conn, TOP_TERMS, params)]


async def country_uses(conn: aiosqlite.Connection, guild_id: int) -> dict[str, int]:
    """Picks per country code in the server, most used first (at most one row per country)."""
    rows = await fetch_all(conn, COUNTRY_USES, {"guild_id": guild_id})
    return {str(r["country"]): int(r["uses"]) for r in rows}


async def delete_unposted(conn: aiosqlite.Connection, guild_id: int, pick_id: int) -> bool:
    cursor = await conn.execute(DELETE_UNPOSTED, {"guild_id": guild_id, "pick_id": pick_id})
    return cursor.rowcount > 0


async def count_live(conn: aiosqlite.Connection, guild_id: int) -> int:
    row = await fetch_one(conn, COUNT_LIVE, {"guild_id": guild_id})
    return 0 if row is None else int(row[0])


async def export_batch(
    conn: aiosqlite.Connection, guild_id: int, after: int, limit: int = 1000
) -> list[tuple[Pick, str | None, list[Second]]]:
    """Up to ``limit`` live picks with ids above ``after``, in id order, each with its lineage
    (``relation:to_id;…``) and its seconds. Callers page by the last id (keyset paging)."""
    rows = await fetch_all(
        conn, EXPORT_BATCH, {"guild_id": guild_id, "after": after, "limit": limit}
    )
    ids = [int(r["id"]) for r in rows]
    seconds: dict[int, list[Second]] = {}
    if ids:
        for r in await fetch_all(conn, SECONDS_OF, {"ids": json.dumps(ids)}):
            seconds.setdefault(r["pick_id"], []).append(
                Second(r["pick_id"], r["user_id"], r["note"], r["created_at"])
            )
    return [(row_to_pick(r), r["lineage"], seconds.get(int(r["id"]), [])) for r in rows]


async def find_existing_keys(
    conn: aiosqlite.Connection, guild_id: int, match_keys: list[str], link_keys: list[str]
) -> list[tuple[Pick, str, str | None]]:
    """Live picks of the server having any of the keys, with the keys they have."""
    params = {
        "guild_id": guild_id,
        "match_keys": json.dumps(match_keys),
        "link_keys": json.dumps(link_keys),
    }
    rows = await fetch_all(conn, FIND_EXISTING_KEYS, params)
    return [(row_to_pick(r), str(r["match_key"]), r["link_key"]) for r in rows]


async def bulk_import(
    conn: aiosqlite.Connection, guild_id: int, entries: Sequence[ImportedEntry], default_time: int
) -> tuple[int, int]:
    """Insert validated import entries with their tags, seconds and lineage in a few batched
    statements (ids are assigned here: the caller's write transaction excludes other writers).
    Returns ``(links, seconds)`` inserted."""
    row = await fetch_one(conn, MAX_PICK_ID, {})
    next_id = (int(row[0]) if row else 0) + 1
    ids: dict[int, int] = {}
    picks, tags, seconds, links = [], [], [], []
    for offset, entry in enumerate(entries):
        pick_id = next_id + offset
        if entry.source_id is not None:
            ids[entry.source_id] = pick_id
        picks.append(
            _draft_params(entry.draft)
            | {"id": pick_id, "guild_id": guild_id, "shared_by": entry.shared_by,
               "created_at": entry.created_at or default_time}
        )  # fmt: skip
        tags += [
            {"guild_id": guild_id, "tag": t, "pick_id": pick_id} for t in entry.draft.subgenres
        ]
        seconds += [
            {"pick_id": pick_id, "user_id": user_id, "note": note, "at": at or default_time}
            for user_id, note, at in entry.seconds
        ]
    for entry in entries:
        for relation, target in entry.lineage:
            assert entry.source_id is not None
            links.append(
                {"guild_id": guild_id, "from_id": ids[entry.source_id], "to_id": ids[target],
                 "relation": relation, "user_id": None, "now": default_time}
            )  # fmt: skip
    await conn.executemany(INSERT_PICK_WITH_ID, picks)
    await conn.executemany(INSERT_TAG, tags)
    await conn.executemany(INSERT_SECOND_AT, seconds)
    await conn.executemany(INSERT_LINK, links)
    return len(links), len(seconds)


async def add_second_at(
    conn: aiosqlite.Connection, pick_id: int, user_id: int | None, note: str | None, at: int
) -> None:
    await conn.execute(
        INSERT_SECOND_AT, {"pick_id": pick_id, "user_id": user_id, "note": note, "at": at}
    )


async def stats(
    conn: aiosqlite.Connection, guild_id: int, limit: int
) -> dict[str, list[tuple[Any, int]]]:
    result: dict[str, list[tuple[Any, int]]] = {}
    for name, sql in STATS.items():
        rows = await fetch_all(conn, sql, {"guild_id": guild_id, "limit": limit})
        result[name] = [(r[0], int(r[1])) for r in rows]
    return result


async def user_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    params = {"user_id": user_id}
    return {
        "picks": [dict(r) for r in await fetch_all(conn, USER_PICKS, params)],
        "votes": [dict(r) for r in await fetch_all(conn, USER_VOTES, params)],
        "seconds": [dict(r) for r in await fetch_all(conn, USER_SECONDS, params)],
        "lineage_links": [dict(r) for r in await fetch_all(conn, USER_LINKS, params)],
        "edits": [dict(r) for r in await fetch_all(conn, USER_EDITS, params)],
        "removals": [dict(r) for r in await fetch_all(conn, USER_REMOVALS, params)],
    }


async def user_cards(conn: aiosqlite.Connection, user_id: int) -> list[tuple[int, int, int, int]]:
    """``(pick_id, guild_id, channel_id, message_id)`` of every card of the member's picks."""
    rows = await fetch_all(conn, USER_CARDS, {"user_id": user_id})
    return [(r["id"], r["guild_id"], r["channel_id"], r["message_id"]) for r in rows]


async def forget_user(
    conn: aiosqlite.Connection, user_id: int, *, delete_picks: bool
) -> dict[str, int]:
    params = {"user_id": user_id}
    counts = {"votes": (await conn.execute(FORGET_VOTES, params)).rowcount}
    if delete_picks:
        counts["picks"] = (await conn.execute(DELETE_USER_PICKS, params)).rowcount
        counts["seconds"] = (await conn.execute(DELETE_USER_SECONDS, params)).rowcount
    else:
        counts["picks"] = (await conn.execute(ANONYMISE_PICKS, params)).rowcount
        counts["seconds"] = (await conn.execute(ANONYMISE_SECONDS, params)).rowcount
    for sql in FORGET_TRACES:
        await conn.execute(sql, params)
    return counts


# -- match keys ---------------------------------------------------------------------------------
# ``match_key`` is computed in Python (bot.domain.picks.match_key); when its rules change, every
# stored key is recomputed once. Live picks that the new rules make equal keep the oldest's
# key; the others get their id appended after a control character no typed key can contain,
# so they stay apart (nothing is merged or lost) and new shares dedupe against the oldest.

MATCH_KEY_SOURCES = "SELECT id, artist, title FROM picks WHERE id > ? ORDER BY id LIMIT ?"
CREATE_NEW_KEYS = (
    "CREATE TEMP TABLE new_match_keys (id INTEGER PRIMARY KEY, match_key TEXT NOT NULL)",
    "CREATE INDEX temp.new_match_keys_by_key ON new_match_keys (match_key)",
)
INSERT_NEW_KEY = "INSERT INTO temp.new_match_keys (id, match_key) VALUES (?, ?)"
# Keys that now collide among one server's live picks: all but the oldest step aside.
STEP_ASIDE = """
UPDATE temp.new_match_keys SET match_key = match_key || char(30) || id
WHERE id IN (
    SELECT n.id FROM temp.new_match_keys n JOIN picks p ON p.id = n.id
    WHERE p.deleted_at IS NULL AND n.id > (
        SELECT min(n2.id) FROM temp.new_match_keys n2 JOIN picks p2 ON p2.id = n2.id
        WHERE p2.deleted_at IS NULL AND p2.guild_id = p.guild_id
          AND n2.match_key = n.match_key))
"""
# Two steps, so no key is briefly held twice under the unique index: first a placeholder
# unique to each changing pick, then its new key.
CLEAR_CHANGING_KEYS = """
UPDATE picks SET match_key = char(31) || char(31) || id
WHERE id IN (SELECT n.id FROM temp.new_match_keys n JOIN picks p ON p.id = n.id
             WHERE p.match_key <> n.match_key)
"""
SET_NEW_KEYS = """
UPDATE picks SET match_key = (SELECT match_key FROM temp.new_match_keys n WHERE n.id = picks.id)
WHERE match_key = char(31) || char(31) || id
"""
DROP_NEW_KEYS = "DROP TABLE temp.new_match_keys"


async def match_key_sources(
    conn: aiosqlite.Connection, after_id: int, limit: int
) -> list[tuple[int, str, str]]:
    """The next ``limit`` picks after ``after_id``, removed ones too: ``(id, artist, title)``."""
    rows = await fetch_all(conn, MATCH_KEY_SOURCES, (after_id, limit))
    return [(r["id"], r["artist"], r["title"]) for r in rows]


async def start_new_match_keys(conn: aiosqlite.Connection) -> None:
    for sql in CREATE_NEW_KEYS:
        await conn.execute(sql)


async def add_new_match_keys(conn: aiosqlite.Connection, keys: list[tuple[int, str]]) -> None:
    await conn.executemany(INSERT_NEW_KEY, keys)


async def replace_match_keys(conn: aiosqlite.Connection) -> int:
    """Store the keys added since ``start_new_match_keys``; returns how many picks changed."""
    await conn.execute(STEP_ASIDE)
    await conn.execute(CLEAR_CHANGING_KEYS)
    changed = (await conn.execute(SET_NEW_KEYS)).rowcount
    await conn.execute(DROP_NEW_KEYS)
    return changed
