"""Bot-wide key/value metadata (``bot_meta``), e.g. the fingerprint of the last command sync."""

from __future__ import annotations

import aiosqlite

GET_META = "SELECT value FROM bot_meta WHERE key = :key"
SET_META = """
INSERT INTO bot_meta (key, value) VALUES (:key, :value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""


async def get_meta(conn: aiosqlite.Connection, key: str) -> str | None:
    async with conn.execute(GET_META, {"key": key}) as cursor:
        row = await cursor.fetchone()
    return None if row is None else str(row["value"])


async def set_meta(conn: aiosqlite.Connection, key: str, value: str) -> None:
    await conn.execute(SET_META, {"key": key, "value": value})
