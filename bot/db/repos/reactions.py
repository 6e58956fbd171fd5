"""What members add to a pick: Heard/Loved marks (``pick_votes``) and seconds (``pick_seconds``)."""

from __future__ import annotations

import aiosqlite

from bot.db.rows import fetch_all, fetch_one
from bot.domain.picks import Second

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
