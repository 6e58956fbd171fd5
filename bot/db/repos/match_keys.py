"""Recomputing every stored dedupe key (``picks.match_key``) when the rules for them change."""

from __future__ import annotations

import aiosqlite

from bot.db.rows import fetch_all

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
