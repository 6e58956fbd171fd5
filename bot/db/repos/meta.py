"""Bot-wide key/value metadata (``bot_meta``), e.g. the fingerprint of the last command sync."""

from __future__ import annotations

import aiosqlite

from bot.db.rows import fetch_one

GET_META = "SELECT value FROM bot_meta WHERE key = :key"
SET_META = """
INSERT INTO bot_meta (key, value) VALUES (:key, :value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""


async def get_meta(conn: aiosqlite.Connection, key: str) -> str | None:
    row = await fetch_one(conn, GET_META, {"key": key})
    return None if row is None else str(row["value"])


async def set_meta(conn: aiosqlite.Connection, key: str, value: str) -> None:
    await conn.execute(SET_META, {"key": key, "value": value})
