"""Everything stored about one member across servers: export it, or forget it."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.db.repos.picks import PICK_COLUMNS
from bot.db.rows import fetch_all

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
