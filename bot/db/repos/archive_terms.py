"""What a server's archive holds, counted: subgenres, labels and countries by use, and stats."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.db.rows import fetch_all

TOP_TERMS = """
SELECT value, uses FROM archive_terms
WHERE guild_id = :guild_id AND kind = :kind AND uses > 0 AND instr(value, :needle) > 0
ORDER BY uses DESC, value LIMIT :limit
"""
COUNTRY_USES = """
SELECT country, uses FROM archive_countries WHERE guild_id = :guild_id AND uses > 0
ORDER BY uses DESC, country
"""
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


async def stats(
    conn: aiosqlite.Connection, guild_id: int, limit: int
) -> dict[str, list[tuple[Any, int]]]:
    result: dict[str, list[tuple[Any, int]]] = {}
    for name, sql in STATS.items():
        rows = await fetch_all(conn, sql, {"guild_id": guild_id, "limit": limit})
        result[name] = [(r[0], int(r[1])) for r in rows]
    return result
