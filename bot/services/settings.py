"""Personal and server settings: time zones, and per-server options (the mod-log channel …)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import aiosqlite

from bot.db import Database
from bot.db.repos import settings as settings_repo
from bot.domain.guild_options import MOD_LOG_CHANNEL, GuildOption
from bot.domain.timeutil import to_epoch
from bot.domain.timezones import resolve_zone, suggest_zones
from bot.errors import UserError

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "UTC"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SettingsOverview:
    """What ``/settings show`` reports. ``None`` means "not set"."""

    user_timezone: str | None
    server_timezone: str | None
    mod_log_channel_id: int | None = None

    @property
    def effective_timezone(self) -> str:
        """The zone times are shown in for this member: theirs, else the server's, else UTC."""
        return self.user_timezone or self.server_timezone or DEFAULT_TIMEZONE


def parse_timezone(text: str) -> str:
    """The canonical IANA name for ``text``, or a ``UserError`` that suggests close matches."""
    zone = resolve_zone(text)
    if zone is not None:
        return zone
    shown = text.strip()[:60] or "(empty)"
    suggestions = suggest_zones(text)
    if suggestions:
        listed = ", ".join(f"`{name}`" for name in suggestions)
        raise UserError(f"`{shown}` is not a time zone I know. Did you mean {listed}?")
    raise UserError(
        f"`{shown}` is not a time zone I know. Use an IANA name such as `Europe/Berlin` or "
        "`America/Mexico_City` — start typing a city and pick from the list."
    )


async def set_member_timezone(db: Database, user_id: int, zone_text: str, now: datetime) -> str:
    zone = parse_timezone(zone_text)
    async with db.transaction() as conn:
        await settings_repo.set_user_timezone(conn, user_id, zone, to_epoch(now))
    return zone


async def set_server_timezone(
    db: Database,
    guild_id: int,
    user_id: int,
    zone_text: str,
    now: datetime,
    *,
    also: Callable[[aiosqlite.Connection], Awaitable[None]] | None = None,
) -> str:
    """Set the server's zone; ``also`` runs in the same transaction (what follows the server's
    zone moves with it: a digest at 10:00 in the server's zone stays at 10:00 there)."""
    zone = parse_timezone(zone_text)
    async with db.transaction() as conn:
        await settings_repo.set_guild_timezone(conn, guild_id, zone, user_id, to_epoch(now))
        if also is not None:
            await also(conn)
    return zone


async def get_settings_overview(
    db: Database, guild_id: int | None, user_id: int
) -> SettingsOverview:
    async with db.read() as conn:
        user_zone = await settings_repo.get_user_timezone(conn, user_id)
        if guild_id is None:
            return SettingsOverview(user_zone, None)
        server_zone = await settings_repo.get_guild_timezone(conn, guild_id)
        mod_log = await _read_option(conn, guild_id, MOD_LOG_CHANNEL)
    return SettingsOverview(user_zone, server_zone, mod_log)


# -- per-server options -----------------------------------------------------------------------


async def get_guild_option(db: Database, guild_id: int, option: GuildOption[T]) -> T | None:
    """The server's value of ``option``, or None if unset (or stored in a shape it no longer
    accepts, which is logged)."""
    async with db.read() as conn:
        return await _read_option(conn, guild_id, option)


async def set_guild_option(
    db: Database,
    guild_id: int,
    option: GuildOption[T],
    value: T | None,
    user_id: int,
    now: datetime,
) -> bool:
    """Set ``option`` (None clears it). Returns whether it had a value before."""
    async with db.transaction() as conn:
        if value is None:
            return await settings_repo.clear_guild_option(conn, guild_id, option.name)
        had = await settings_repo.get_guild_option(conn, guild_id, option.name) is not None
        await settings_repo.set_guild_option(
            conn, guild_id, option.name, option.encode(value), user_id, to_epoch(now)
        )
        return had


async def get_mod_log_channel(db: Database, guild_id: int) -> int | None:
    return await get_guild_option(db, guild_id, MOD_LOG_CHANNEL)


async def set_mod_log_channel(
    db: Database, guild_id: int, user_id: int, channel_id: int | None, now: datetime
) -> bool:
    """Point moderator notices at ``channel_id`` (None clears it); whether one was set before."""
    return await set_guild_option(db, guild_id, MOD_LOG_CHANNEL, channel_id, user_id, now)


async def _read_option(
    conn: aiosqlite.Connection, guild_id: int, option: GuildOption[T]
) -> T | None:
    text = await settings_repo.get_guild_option(conn, guild_id, option.name)
    if text is None:
        return None
    try:
        return option.decode(text)
    except ValueError:
        log.warning("Server %s: ignoring stored %s %r", guild_id, option.name, text)
        return None
