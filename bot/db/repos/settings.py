"""Server settings (``guild_settings``) and personal settings (``user_settings``)."""

from __future__ import annotations

import aiosqlite

from bot.db.rows import fetch_all, fetch_one

GET_GUILD_TIMEZONE = "SELECT timezone FROM guild_settings WHERE guild_id = :guild_id"
SET_GUILD_TIMEZONE = """
INSERT INTO guild_settings (guild_id, timezone, updated_at, updated_by)
VALUES (:guild_id, :timezone, :now, :user_id)
ON CONFLICT (guild_id) DO UPDATE SET
    timezone = excluded.timezone, updated_at = excluded.updated_at, updated_by = excluded.updated_by
"""
GET_USER_TIMEZONE = "SELECT timezone FROM user_settings WHERE user_id = :user_id"
SET_USER_TIMEZONE = """
INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (:user_id, :timezone, :now)
ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at
"""


async def get_guild_timezone(conn: aiosqlite.Connection, guild_id: int) -> str | None:
    row = await fetch_one(conn, GET_GUILD_TIMEZONE, {"guild_id": guild_id})
    return None if row is None else row["timezone"]


async def set_guild_timezone(
    conn: aiosqlite.Connection, guild_id: int, timezone: str, user_id: int, now: int
) -> None:
    await conn.execute(
        SET_GUILD_TIMEZONE,
        {"guild_id": guild_id, "timezone": timezone, "user_id": user_id, "now": now},
    )


async def get_user_timezone(conn: aiosqlite.Connection, user_id: int) -> str | None:
    row = await fetch_one(conn, GET_USER_TIMEZONE, {"user_id": user_id})
    return None if row is None else row["timezone"]


async def set_user_timezone(
    conn: aiosqlite.Connection, user_id: int, timezone: str, now: int
) -> None:
    await conn.execute(SET_USER_TIMEZONE, {"user_id": user_id, "timezone": timezone, "now": now})


DELETE_USER_SETTINGS = "DELETE FROM user_settings WHERE user_id = :user_id"
FORGET_GUILD_EDITOR = "UPDATE guild_settings SET updated_by = NULL WHERE updated_by = :user_id"
GET_USER_SETTINGS_ROW = "SELECT timezone, updated_at FROM user_settings WHERE user_id = :user_id"
GUILDS_EDITED_BY = (
    "SELECT guild_id, timezone, updated_at FROM guild_settings WHERE updated_by = :user_id"
)


async def delete_user_settings(conn: aiosqlite.Connection, user_id: int) -> int:
    cursor = await conn.execute(DELETE_USER_SETTINGS, {"user_id": user_id})
    await conn.execute(FORGET_GUILD_EDITOR, {"user_id": user_id})
    return cursor.rowcount


async def user_settings_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, object]:
    row = await fetch_one(conn, GET_USER_SETTINGS_ROW, {"user_id": user_id})
    edited = [dict(r) for r in await fetch_all(conn, GUILDS_EDITED_BY, {"user_id": user_id})]
    return {
        "timezone": None if row is None else row["timezone"],
        "timezone_updated_at": None if row is None else row["updated_at"],
        "server_timezones_you_set": edited,
    }
