"""Picks themselves: store, read, change, remove, restore and purge one entry (with its tags).

Every other picks repository reads rows through ``PICK_COLUMNS`` and ``row_to_pick``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import aiosqlite

from bot.db.rows import SyncConnection, fetch_all, fetch_one, read_all
from bot.domain.picks import Pick, PickDraft

PICK_COLUMNS = """
    p.id, p.guild_id, p.artist, p.title, p.link_url, p.link_platform, p.tags, p.label, p.year,
    p.country, p.city, p.format, p.note, p.shared_by, p.created_at, p.channel_id, p.message_id,
    p.edited_at, p.edited_by, p.deleted_at, p.heard_count AS heard, p.loved_count AS loved
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
# The next pick id: above every live pick and every deleted one (ids are never reused, migration
# 0008); both maxima are single index seeks.
NEXT_PICK_ID = """
max((SELECT coalesce(max(id), 0) FROM picks), (SELECT id FROM pick_id_high_water)) + 1
"""
INSERT_PICK_WITH_ID = f"""
INSERT INTO picks (id, guild_id, artist, title, match_key, link_url, link_key, link_platform,
                   label, year, country, city, format, note, tags, shared_by, created_at)
VALUES (coalesce(:id, {NEXT_PICK_ID}), :guild_id, :artist, :title, :match_key, :link_url, :link_key, :link_platform,
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
COUNT_LIVE = "SELECT count(*) FROM picks WHERE guild_id = :guild_id AND deleted_at IS NULL"


#: How many columns ``PICK_COLUMNS`` names: one per field of ``Pick`` (a statement may select
#: more after them).
PICK_WIDTH = len(fields(Pick))


def row_to_pick(row: aiosqlite.Row) -> Pick:
    """The pick of a row that starts with ``PICK_COLUMNS``, read by position (``Pick``'s fields
    are in the columns' order, the subgenres where the tags column is): a look-up by name scans
    the row's column names, and an archive page or a digest reads dozens of rows."""
    id_, guild_id, artist, title, link_url, link_platform, tags = row[:7]
    subgenres = tuple(tags.split()) if tags else ()
    return Pick(
        id_, guild_id, artist, title, link_url, link_platform, subgenres, *row[7:PICK_WIDTH]
    )


def draft_params(draft: PickDraft) -> dict[str, Any]:
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
    params = draft_params(draft) | {
        "id": None,
        "guild_id": guild_id,
        "shared_by": shared_by,
        "created_at": created_at,
    }
    row = await fetch_one(conn, INSERT_PICK, params)
    assert row is not None
    pick_id = int(row["id"])
    await insert_tags(conn, guild_id, pick_id, draft.subgenres)
    return pick_id


async def insert_tags(
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
        UPDATE_PICK, draft_params(draft) | {"pick_id": pick_id, "user_id": user_id, "now": now}
    )
    await conn.execute(DELETE_TAGS, {"pick_id": pick_id})
    await insert_tags(conn, guild_id, pick_id, draft.subgenres)


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


def read_picks(conn: SyncConnection, guild_id: int, ids: Sequence[int]) -> dict[int, Pick]:
    """``get_picks`` inside a read run in one hop (``bot.db.rows.in_one_hop``)."""
    rows = read_all(conn, GET_PICKS, {"guild_id": guild_id, "ids": json.dumps(list(ids))})
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


async def delete_unposted(conn: aiosqlite.Connection, guild_id: int, pick_id: int) -> bool:
    cursor = await conn.execute(DELETE_UNPOSTED, {"guild_id": guild_id, "pick_id": pick_id})
    return cursor.rowcount > 0


async def count_live(conn: aiosqlite.Connection, guild_id: int) -> int:
    row = await fetch_one(conn, COUNT_LIVE, {"guild_id": guild_id})
    return 0 if row is None else int(row[0])
