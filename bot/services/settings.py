"""Personal and server settings: time zones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db import Database
from bot.db.repos import settings as settings_repo
from bot.domain.timeutil import to_epoch
from bot.domain.timezones import resolve_zone, suggest_zones
from bot.errors import UserError

DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True, slots=True)
class SettingsOverview:
    """What ``/settings show`` reports. ``None`` means "not set"."""

    user_timezone: str | None
    server_timezone: str | None

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
    db: Database, guild_id: int, user_id: int, zone_text: str, now: datetime
) -> str:
    zone = parse_timezone(zone_text)
    async with db.transaction() as conn:
        await settings_repo.set_guild_timezone(conn, guild_id, zone, user_id, to_epoch(now))
    return zone


async def get_settings_overview(
    db: Database, guild_id: int | None, user_id: int
) -> SettingsOverview:
    async with db.read() as conn:
        user_zone = await settings_repo.get_user_timezone(conn, user_id)
        server_zone = (
            None if guild_id is None else await settings_repo.get_guild_timezone(conn, guild_id)
        )
    return SettingsOverview(user_zone, server_zone)
