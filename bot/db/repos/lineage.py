"""Lineage links between picks (``pick_links``): what grew out of what, two steps each way."""

from __future__ import annotations

import aiosqlite

from bot.db.rows import fetch_all
from bot.domain.picks import LineageEdge

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
