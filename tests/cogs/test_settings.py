"""/settings through the real command tree (simcord)."""

from __future__ import annotations

import logging

import pytest
import simcord

from bot.client import UndercurrentBot
from bot.db.repos import settings as settings_repo
from bot.errors import UserError
from bot.interactions import APOLOGY
from tests.cogs.conftest import Server


async def stored_user_zone(bot: UndercurrentBot, user_id: int) -> str | None:
    async with bot.db.read() as conn:
        return await settings_repo.get_user_timezone(conn, user_id)


async def stored_server_zone(bot: UndercurrentBot, guild_id: int) -> str | None:
    async with bot.db.read() as conn:
        return await settings_repo.get_guild_timezone(conn, guild_id)


async def test_member_sets_their_timezone(server: Server, simcord_bot: UndercurrentBot) -> None:
    result = await server.member.slash(server.channel, "settings timezone", zone="europe/berlin")
    simcord.assert_responded(
        result, content="Your time zone is now **Europe/Berlin**.", ephemeral=True
    )
    assert await stored_user_zone(simcord_bot, server.member.id) == "Europe/Berlin"


async def test_unknown_zone_is_a_private_error_with_suggestions(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    result = await server.member.slash(server.channel, "settings timezone", zone="Europe/Berln")
    assert result.ephemeral
    assert result.response is not None
    assert "`Europe/Berln` is not a time zone I know. Did you mean" in result.response.content
    assert "`Europe/Berlin`" in result.response.content
    simcord.assert_error(server.env, UserError)
    assert await stored_user_zone(simcord_bot, server.member.id) is None


async def test_timezone_autocomplete(server: Server) -> None:
    choices = await server.member.autocomplete(server.channel, "settings timezone", "zone", "berl")
    assert choices[0] == {"name": "Europe/Berlin", "value": "Europe/Berlin"}
    everything = await server.member.autocomplete(server.channel, "settings timezone", "zone", "a")
    assert len(everything) == 25


async def test_server_timezone_needs_manage_server(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    result = await server.member.slash(
        server.channel, "settings server-timezone", zone="Asia/Tokyo"
    )
    simcord.assert_responded(
        result, content="You need the **Manage Server** permission to do that.", ephemeral=True
    )
    simcord.assert_error(server.env, Exception)
    assert await stored_server_zone(simcord_bot, server.guild.id) is None


async def test_moderator_sets_server_timezone_and_show_reports_both(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    result = await server.moderator.slash(
        server.channel, "settings server-timezone", zone="Africa/Bamako"
    )
    assert result.ephemeral and result.response is not None
    assert "**Africa/Bamako**" in result.response.content
    assert await stored_server_zone(simcord_bot, server.guild.id) == "Africa/Bamako"

    await server.member.slash(server.channel, "settings timezone", zone="Asia/Tokyo")
    shown = await server.member.slash(server.channel, "settings show")
    assert shown.ephemeral and shown.response is not None
    embed = shown.response.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    # The fake clock reads 2026-01-05 12:00 UTC: 21:00 in Tokyo, 12:00 in Bamako.
    assert fields["Your time zone"] == "**Asia/Tokyo** — Mon 05 Jan, 21:00 (UTC+09:00)"
    assert fields["Server default"] == "**Africa/Bamako** — Mon 05 Jan, 12:00 (UTC+00:00)"
    assert "<t:1767614400:F>" in fields["Now"]


async def test_show_with_nothing_set_explains_the_defaults(server: Server) -> None:
    shown = await server.member.slash(server.channel, "settings show")
    assert shown.response is not None
    fields = {field.name: field.value for field in shown.response.embeds[0].fields}
    assert fields["Your time zone"].startswith("Not set")
    assert "**UTC** is used" in fields["Server default"]


async def test_unexpected_error_is_logged_and_member_gets_an_apology(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.services import settings as settings_service

    async def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(settings_service, "set_member_timezone", broken)
    with caplog.at_level(logging.ERROR, logger="bot.interactions"):
        result = await server.member.slash(server.channel, "settings timezone", zone="UTC")
    simcord.assert_responded(result, content=APOLOGY, ephemeral=True)
    assert "disk on fire" not in result.response.content  # type: ignore[union-attr]
    simcord.assert_error(server.env, RuntimeError)
    record = next(r for r in caplog.records if r.name == "bot.interactions")
    assert "Command /settings timezone failed" in record.getMessage()
    assert "'zone': 'UTC'" in record.getMessage()
    assert record.exc_info is not None


async def test_replies_never_allow_mentions(server: Server) -> None:
    await server.member.slash(server.channel, "settings timezone", zone="UTC")
    callbacks = [r for r in server.env.http_requests if r.path.endswith("/callback")]
    assert callbacks
    assert callbacks[-1].json["data"]["allowed_mentions"] == {"parse": []}
