"""/settings through the real command tree (simcord)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import discord
import pytest
import simcord

from bot.client import UndercurrentBot
from bot.db.repos import jobs as jobs_repo
from bot.db.repos import settings as settings_repo
from bot.domain.cards import card_key
from bot.domain.jobs import Job, JobKind
from bot.domain.picks import PickFields
from bot.errors import UserError
from bot.interactions import APOLOGY
from bot.moderators import NOTICE_TITLE
from bot.pick_cards import refresh_card
from bot.scheduler import PermanentJobError
from bot.services import picks as picks_service
from bot.services import settings as settings_service
from tests.cogs.conftest import Server


async def stored_user_zone(bot: UndercurrentBot, user_id: int) -> str | None:
    async with bot.db.read() as conn:
        return await settings_repo.get_user_timezone(conn, user_id)


async def stored_server_zone(bot: UndercurrentBot, guild_id: int) -> str | None:
    async with bot.db.read() as conn:
        return await settings_repo.get_guild_timezone(conn, guild_id)


async def stored_mod_log(bot: UndercurrentBot, guild_id: int) -> int | None:
    return await settings_service.get_mod_log_channel(bot.db, guild_id)


def channel_denying_the_bot(server: Server, name: str, **denied: bool) -> simcord.ChannelHandle:
    me = server.guild.me
    assert me is not None
    return server.guild.create_text_channel(
        name, overwrites={me: discord.PermissionOverwrite(**denied)}
    )


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


@pytest.mark.parametrize("command", ["server-timezone", "mod-log"])
async def test_server_settings_need_manage_server(
    server: Server, simcord_bot: UndercurrentBot, command: str
) -> None:
    options = {"server-timezone": {"zone": "Asia/Tokyo"}, "mod-log": {"channel": server.channel}}
    result = await server.member.slash(server.channel, f"settings {command}", **options[command])
    simcord.assert_responded(
        result, content="You need the **Manage Server** permission to do that.", ephemeral=True
    )
    simcord.assert_error(server.env, Exception)
    assert await stored_server_zone(simcord_bot, server.guild.id) is None
    assert await stored_mod_log(simcord_bot, server.guild.id) is None


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


# -- /settings mod-log, and notices to moderators ----------------------------------------------


async def test_moderator_sets_shows_and_clears_the_mod_log(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    mod_log = server.guild.create_text_channel("mod-log")
    result = await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    simcord.assert_responded(
        result,
        content=(
            "Failures you must act on (a scheduled job that gave up, a permission I lost) now go "
            f"to <#{mod_log.id}>."
        ),
        ephemeral=True,
    )
    assert await stored_mod_log(simcord_bot, server.guild.id) == mod_log.id

    shown = await server.member.slash(server.channel, "settings show")
    assert shown.response is not None
    fields = {field.name: field.value for field in shown.response.embeds[0].fields}
    assert fields["Mod-log channel"] == f"<#{mod_log.id}>"

    cleared = await server.moderator.slash(server.channel, "settings mod-log")
    assert cleared.ephemeral and cleared.response is not None
    assert cleared.response.content.startswith("The mod-log channel is cleared.")
    assert "system channel" in cleared.response.content
    assert await stored_mod_log(simcord_bot, server.guild.id) is None
    shown = await server.member.slash(server.channel, "settings show")
    assert shown.response is not None
    fields = {field.name: field.value for field in shown.response.embeds[0].fields}
    assert fields["Mod-log channel"].startswith("Not set")


async def test_mod_log_refuses_a_voice_channel_privately(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    lounge = server.guild.create_voice_channel("lounge")
    # Discord's picker offers text and announcement channels only ...
    with pytest.raises(simcord.OptionError, match=r"only allows channel types \[0, 5\]"):
        await server.moderator.slash(server.channel, "settings mod-log", channel=lounge)

    # ... but a registration synced by an older version may not say so: the bot refuses in words.
    command = server.env.backend.find_command("settings", None)
    assert command is not None
    mod_log = next(option for option in command["options"] if option["name"] == "mod-log")
    del mod_log["options"][0]["channel_types"]
    result = await server.moderator.slash(server.channel, "settings mod-log", channel=lounge)
    simcord.assert_responded(
        result,
        content=(
            f"<#{lounge.id}> is not a text channel. Pick a text channel for the mod log, or run "
            "`/settings mod-log` without a channel to clear it."
        ),
        ephemeral=True,
    )
    simcord.assert_error(server.env, UserError)
    assert await stored_mod_log(simcord_bot, server.guild.id) is None


async def test_mod_log_where_the_bot_cannot_post_says_what_to_grant(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    hidden = channel_denying_the_bot(server, "mods-only", send_messages=False)
    result = await server.moderator.slash(server.channel, "settings mod-log", channel=hidden)
    assert result.response is not None
    assert result.response.content.endswith(
        "I can't post there yet: give me **Send Messages, Embed Links** in that channel."
    )
    assert await stored_mod_log(simcord_bot, server.guild.id) == hidden.id


@dataclass(frozen=True, slots=True)
class DigestPost:
    channel_id: int


DIGEST = JobKind(
    "test.digest",
    DigestPost,
    summary="the weekly digest",
    what_to_do="Give me Send Messages in the digest channel, then wait for next week's.",
)


async def fail_a_digest(bot: UndercurrentBot, guild_id: int) -> None:
    async def post_digest(job: Job[DigestPost]) -> None:
        raise PermanentJobError(f"403 Forbidden: Missing Access to {job.payload.channel_id}")

    bot.scheduler.register(DIGEST, post_digest)
    await bot.scheduler.schedule(DIGEST, bot.clock.now(), DigestPost(99), guild_id=guild_id)
    await bot.scheduler.run_due()  # today's archive purge runs too
    assert bot.scheduler.stats.failed == 1


def notices(channel: simcord.ChannelHandle) -> list[discord.Embed]:
    return [
        embed
        for message in channel.history()
        for embed in message.embeds
        if embed.title == NOTICE_TITLE
    ]


async def test_a_job_that_gives_up_tells_the_mod_log(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    mod_log = server.guild.create_text_channel("mod-log")
    server.env.backend.edit_guild(server.guild.id, {"system_channel_id": server.channel.id})
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    await fail_a_digest(simcord_bot, server.guild.id)
    await server.env.settle()

    [notice] = notices(mod_log)
    assert notice.description == (
        "**The weekly digest** did not happen: I tried once and gave up.\n"
        "Error: `PermanentJobError: 403 Forbidden: Missing Access to 99`\n"
        "**What to do:** Give me Send Messages in the digest channel, then wait for next week's."
    )
    assert notices(server.channel) == []


async def test_without_a_mod_log_the_notice_goes_to_the_system_channel(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    server.env.backend.edit_guild(server.guild.id, {"system_channel_id": server.channel.id})
    await server.env.settle()
    await fail_a_digest(simcord_bot, server.guild.id)
    await server.env.settle()
    [notice] = notices(server.channel)
    assert notice.description is not None
    assert notice.description.startswith("**The weekly digest** did not happen")


async def test_a_mod_log_the_bot_cannot_post_in_falls_back_and_says_so(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    mod_log = channel_denying_the_bot(server, "mod-log", embed_links=False)
    server.env.backend.edit_guild(server.guild.id, {"system_channel_id": server.channel.id})
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    await fail_a_digest(simcord_bot, server.guild.id)
    await server.env.settle()
    assert notices(mod_log) == []
    [notice] = notices(server.channel)
    assert notice.description is not None
    assert notice.description.endswith(
        f"I may not post in the mod-log channel <#{mod_log.id}> (missing Embed Links); grant "
        "that, or set another with `/settings mod-log`."
    )


async def test_with_nowhere_to_post_the_notice_is_logged(
    server: Server, simcord_bot: UndercurrentBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.moderators"):
        await fail_a_digest(simcord_bot, server.guild.id)
        await server.env.settle()
    assert notices(server.channel) == []
    records = [r for r in caplog.records if r.name == "bot.moderators"]
    warning = next(r for r in records if r.levelno == logging.WARNING)
    assert "Nowhere to tell the moderators" in warning.getMessage()
    assert "notice job:" in warning.getMessage()  # which one, by name
    # Its words can quote members, so they are logged at DEBUG only.
    assert "Give me Send Messages in the digest channel" not in warning.getMessage()
    said = next(r for r in records if r.levelno == logging.DEBUG)
    assert "Give me Send Messages in the digest channel" in said.getMessage()


async def test_a_card_the_bot_may_no_longer_update_is_reported_once_a_day(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    """Votes, edits and removals update a card; when Discord refuses (the bot lost access to
    the channel), the moderators are told once, however many updates are refused that day."""
    mod_log = server.guild.create_text_channel("mod-log")
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    await server.member.slash(server.channel, "rec share", artist="Kas Product", title="Try Out")
    server.env.inject_error(
        "PATCH", "/channels/*/messages/*", status=403, code=50001, message="Missing Access",
        times=None,
    )  # fmt: skip
    pick = await picks_service.get_live_pick(simcord_bot.db, server.guild.id, 1)
    for _ in range(3):  # three votes on copies of the card, say
        await refresh_card(simcord_bot, pick)
    await server.env.settle()
    [notice] = notices(mod_log)
    assert notice.description == (
        f"I could not update the card of archive entry #1 in <#{server.channel.id}>. Discord "
        "said: 403 Forbidden (error code: 50001): Missing Access. Check my permissions there."
    )
    simcord_bot.clock.advance(timedelta(days=1))  # the next day, it is said again
    await refresh_card(simcord_bot, pick)
    await server.env.settle()
    assert len(notices(mod_log)) == 2


async def test_removal_from_a_server_cancels_its_pending_jobs(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    later = simcord_bot.clock.now() + timedelta(days=1)
    here = await simcord_bot.scheduler.schedule(
        DIGEST, later, DigestPost(1), guild_id=server.guild.id
    )
    other = server.env.create_guild("Coldwave Club")
    there = await simcord_bot.scheduler.schedule(DIGEST, later, DigestPost(2), guild_id=other.id)
    server.env.backend.remove_guild(server.guild.id)
    await server.env.settle()
    async with simcord_bot.db.read() as conn:
        removed = await jobs_repo.get_job(conn, here.job_id)
        kept = await jobs_repo.get_job(conn, there.job_id)
    assert removed is not None and removed.status == "cancelled"
    assert kept is not None and kept.status == "pending"


async def test_a_moderator_marks_a_notice_handled(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    mod_log = server.guild.create_text_channel("mod-log")
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    await fail_a_digest(simcord_bot, server.guild.id)
    await server.env.settle()
    posted = next(m for m in mod_log.history() if m.embeds)

    refused = await server.member.click(posted, label="Mark handled")
    assert refused.ephemeral and refused.response is not None
    assert "Manage Server" in (refused.response.content or "")
    assert next(m for m in mod_log.history() if m.id == posted.id).components  # still there

    handled = await server.moderator.click(posted, label="Mark handled")
    assert handled.acknowledged
    updated = next(m for m in mod_log.history() if m.id == posted.id)
    assert updated.components == []
    assert updated.embeds[0].footer.text == "Handled by ines"
    assert (updated.embeds[0].description or "").startswith("**The weekly digest** did not happen")


async def test_a_card_the_bot_may_no_longer_post_after_a_restart_is_reported(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    """A share cut short by a crash, in a channel where the bot has since lost Send Messages:
    the restarted bot cannot post the card, and tells the moderators what to grant."""
    mod_log = server.guild.create_text_channel("mod-log")
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    closed = channel_denying_the_bot(server, "closed", send_messages=False)
    shared = await picks_service.share_pick(
        simcord_bot.db, guild_id=server.guild.id, user_id=server.member.id, channel_id=closed.id,
        now=simcord_bot.clock.now(), given=PickFields(artist="Kas Product", title="Try Out"),
    )  # fmt: skip
    assert shared.pick is not None  # stored, and then the process stopped before answering
    report = await simcord_bot.outbox.reconcile()
    await server.env.settle()
    assert report.failed == 1
    [notice] = notices(mod_log)
    assert notice.description == (
        f"I could not post the card of archive entry #1 in <#{closed.id}>. I am missing "
        "**Send Messages, Embed Links** there. Give my role those permissions in the channel's "
        "settings (or its category's): I try again every hour."
    )
    entry = await simcord_bot.outbox.get(card_key(1))
    assert entry is not None and entry.status == "pending"  # for the hourly sweep
