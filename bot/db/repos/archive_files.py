"""A server's archive in bulk: export batches, the keys an import clashes with, the import."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from bot.db.repos.lineage import INSERT_LINK
from bot.db.repos.picks import (
    INSERT_PICK_WITH_ID,
    INSERT_TAG,
    NEXT_PICK_ID,
    PICK_COLUMNS,
    draft_params,
    row_to_pick,
)
from bot.db.rows import fetch_all, fetch_one
from bot.domain.archive_format import ImportedEntry
from bot.domain.picks import Pick, Second

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
FIRST_FREE_PICK_ID = f"SELECT {NEXT_PICK_ID}"


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
    row = await fetch_one(conn, FIRST_FREE_PICK_ID, {})
    assert row is not None
    next_id = int(row[0])
    ids: dict[int, int] = {}
    picks, tags, seconds, links = [], [], [], []
    for offset, entry in enumerate(entries):
        pick_id = next_id + offset
        if entry.source_id is not None:
            ids[entry.source_id] = pick_id
        picks.append(
            draft_params(entry.draft)
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
