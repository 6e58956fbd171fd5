"""Server settings (``guild_settings``, ``guild_options``) and personal settings (``user_settings``).

Option values are stored as JSON text; ``bot.domain.guild_options`` says what each one holds."""

from __future__ import annotations

import json

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


GET_GUILD_OPTION = "SELECT value FROM guild_options WHERE guild_id = :guild_id AND name = :name"
SET_GUILD_OPTION = """
INSERT INTO guild_options (guild_id, name, value, updated_at, updated_by)
VALUES (:guild_id, :name, :value, :now, :user_id)
ON CONFLICT (guild_id, name) DO UPDATE SET
    value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by
"""
CLEAR_GUILD_OPTION = "DELETE FROM guild_options WHERE guild_id = :guild_id AND name = :name"


async def get_guild_option(conn: aiosqlite.Connection, guild_id: int, name: str) -> str | None:
    """The stored JSON text of option ``name``, or None if it is not set."""
    row = await fetch_one(conn, GET_GUILD_OPTION, {"guild_id": guild_id, "name": name})
    return None if row is None else str(row["value"])


async def set_guild_option(
    conn: aiosqlite.Connection, guild_id: int, name: str, value: str, user_id: int, now: int
) -> None:
    params = {"guild_id": guild_id, "name": name, "value": value, "user_id": user_id, "now": now}
    await conn.execute(SET_GUILD_OPTION, params)


async def clear_guild_option(conn: aiosqlite.Connection, guild_id: int, name: str) -> bool:
    """Unset option ``name``; False if it was not set."""
    cursor = await conn.execute(CLEAR_GUILD_OPTION, {"guild_id": guild_id, "name": name})
    return cursor.rowcount > 0


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
FORGET_OPTION_EDITOR = "UPDATE guild_options SET updated_by = NULL WHERE updated_by = :user_id"
OPTIONS_SET_BY = """
SELECT guild_id, name, value, updated_at FROM guild_options WHERE updated_by = :user_id
ORDER BY guild_id, name
"""


async def delete_user_settings(conn: aiosqlite.Connection, user_id: int) -> int:
    cursor = await conn.execute(DELETE_USER_SETTINGS, {"user_id": user_id})
    await conn.execute(FORGET_GUILD_EDITOR, {"user_id": user_id})
    await conn.execute(FORGET_OPTION_EDITOR, {"user_id": user_id})
    return cursor.rowcount


async def user_settings_data(conn: aiosqlite.Connection, user_id: int) -> dict[str, object]:
    row = await fetch_one(conn, GET_USER_SETTINGS_ROW, {"user_id": user_id})
    edited = [dict(r) for r in await fetch_all(conn, GUILDS_EDITED_BY, {"user_id": user_id})]
    options = [
        {**dict(r), "value": json.loads(r["value"])}
        for r in await fetch_all(conn, OPTIONS_SET_BY, {"user_id": user_id})
    ]
    return {
        "timezone": None if row is None else row["timezone"],
        "timezone_updated_at": None if row is None else row["updated_at"],
        "server_timezones_you_set": edited,
        "server_options_you_set": options,
    }
