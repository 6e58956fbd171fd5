"""/digest through the real command tree (simcord), and the weekly job posting through the
outbox: the digest at its time with its sections, button and chart, once however often the job
runs; a quiet week; a lost channel told to the mod-log and retried; refusals named privately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import simcord
from discord import app_commands

from bot.client import UndercurrentBot
from bot.domain.picks import PickFields
from bot.errors import UserError
from bot.moderators import NOTICE_TITLE
from bot.services import digests as digests_service
from bot.services import picks as picks_service
from tests.cogs.conftest import Server, restarted_bot
from tests.fakes import FakeClock

# The fake clock starts on Monday 2026-01-05 12:00 UTC; the first digest is Monday the 12th.
FIRST_RUN = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)


def last(result: simcord.InteractionResult) -> Any:
    message = result.followups[-1] if result.followups else result.response
    assert message is not None, "no answer"
    return message


def answer(result: simcord.InteractionResult) -> str:
    return str(last(result).content)


async def share(
    bot: UndercurrentBot, server: Server, artist: str, title: str, **fields: Any
) -> int:
    shared = await picks_service.share_pick(
        bot.db, guild_id=server.guild.id, user_id=server.member.id, channel_id=server.channel.id,
        now=bot.clock.now(), given=PickFields(artist=artist, title=title, **fields),
    )  # fmt: skip
    assert shared.pick is not None
    return shared.pick.id


async def set_up(
    server: Server, channel: simcord.ChannelHandle, **options: Any
) -> simcord.InteractionResult:
    return await server.moderator.slash(server.channel, "digest setup", channel=channel, **options)


def digests_in(channel: simcord.ChannelHandle) -> list[Any]:
    return [
        m
        for m in channel.history()
        if m.embeds and (m.embeds[0].title or "").startswith("The week in")
    ]


async def run_jobs(bot: UndercurrentBot, server: Server, clock: FakeClock, until: datetime) -> None:
    clock.advance(until - clock.now())
    await bot.scheduler.run_due()
    await server.env.settle()


async def test_setup_says_when_the_first_digest_comes(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    digests = server.guild.create_text_channel("digests")
    result = await set_up(server, digests)
    assert result.ephemeral
    assert answer(result).splitlines()[:2] == [
        f"The digest goes to <#{digests.id}> every **Monday** at **10:00** (UTC, UTC: no zone "
        "given and the server has none).",
        f"Next: <t:{int(FIRST_RUN.timestamp())}:F> (<t:{int(FIRST_RUN.timestamp())}:R>).",
    ]


async def test_a_member_without_manage_server_cannot_set_it_up(server: Server) -> None:
    refused = await server.member.slash(server.channel, "digest setup", channel=server.channel)
    assert answer(refused) == "You need the **Manage Server** permission to do that."
    simcord.assert_error(server.env, app_commands.MissingPermissions)


async def test_a_channel_the_bot_cannot_post_in_is_refused(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    me = server.guild.me
    assert me is not None
    closed = server.guild.create_text_channel(
        "digests", overwrites={me: discord.PermissionOverwrite(embed_links=False)}
    )
    refused = await set_up(server, closed)
    assert answer(refused) == (
        f"I can't post the digest in <#{closed.id}>: give me **Embed Links** there first. "
        "Nothing was changed."
    )
    simcord.assert_error(server.env, UserError)
    assert await digests_service.get_settings(simcord_bot.db, server.guild.id) is None


async def test_a_bad_time_is_refused_privately(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    refused = await set_up(server, server.channel, at="9pm")
    assert answer(refused) == "**at**: `9pm` is not a time: use `HH:MM`, such as `10:00`."
    simcord.assert_error(server.env, UserError)
    assert await digests_service.get_settings(simcord_bot.db, server.guild.id) is None


async def test_the_digest_is_posted_at_its_time_once_with_its_sections_and_chart(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    clock.advance(timedelta(days=1))
    first = await share(simcord_bot, server, "Mdou Moctar", "Afrique Victime", country="NE",
                        subgenres="tishoumaren", note="Guitar *like* rain")  # fmt: skip
    await share(
        simcord_bot, server, "Tinariwen", "Amassakoul", country="ML", subgenres="desert-blues"
    )
    await picks_service.toggle_vote(
        simcord_bot.db, server.guild.id, first, "loved", server.moderator.id, clock.now()
    )
    await run_jobs(simcord_bot, server, clock, FIRST_RUN - timedelta(seconds=1))
    assert digests_in(digests) == []
    await run_jobs(simcord_bot, server, clock, FIRST_RUN)
    [digest] = digests_in(digests)
    embed = digest.embeds[0]
    assert embed.title == "The week in Minimal Synth Society"
    fields = {field.name: field.value for field in embed.fields}
    assert list(fields) == ["Most loved this week", "New on the map", "Curators of the week"]
    loved = fields["Most loved this week"].splitlines()
    assert loved[0].startswith(
        "**Mdou Moctar — Afrique Victime** · [card](https://discord.com/channels/"
    )
    assert loved[0].endswith(f"· <@{server.member.id}> · ♥ 1")
    assert loved[1] == "> Guitar \\*like\\* rain"
    assert "First pick from **Niger**" in fields["New on the map"]
    assert fields["Curators of the week"] == f"<@{server.member.id}> · ♥ 1 on 1 pick"
    assert embed.image.url == "attachment://week.png"
    assert [a.filename for a in digest.attachments] == ["week.png"]
    assert [c.label for row in digest.components for c in row.children] == ["All picks of the week"]
    assert digest.content == ""  # on time: not marked late

    # The job is done and next week's is planned; running again posts nothing more.
    jobs = await digests_service.status(simcord_bot.db, server.guild.id)
    assert jobs.next_run == FIRST_RUN + timedelta(days=7)
    await run_jobs(simcord_bot, server, clock, FIRST_RUN + timedelta(minutes=5))
    assert len(digests_in(digests)) == 1

    # The button lists the whole week, privately.
    shown = await server.member.click(digest, label="All picks of the week")
    assert shown.ephemeral
    assert "Tinariwen — Amassakoul" in (shown.response.embeds[0].description or "")


async def test_a_restart_after_posting_does_not_post_again(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock, db_path: Any
) -> None:
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    await share(simcord_bot, server, "Moin", "Moot")
    await run_jobs(simcord_bot, server, clock, FIRST_RUN)
    assert len(digests_in(digests)) == 1
    # As if the process had died after the post but before the week was recorded and the job
    # marked done: the job runs again on the restarted bot.
    async with simcord_bot.db.transaction() as conn:
        await conn.execute("DELETE FROM digest_posts")
        await conn.execute(
            "UPDATE jobs SET status = 'pending' WHERE dedupe_key = ?",
            (f"digest:{server.guild.id}:2026-W03",),
        )
        await conn.execute(
            "UPDATE jobs SET status = 'cancelled' WHERE dedupe_key LIKE 'digest:%W04'"
        )
    async with restarted_bot(server.env, db_path, clock) as again:
        await again.scheduler.run_due()
        await server.env.settle()
        assert len(digests_in(digests)) == 1
        status = await digests_service.status(again.db, server.guild.id)
        assert status.last_posted is not None and status.next_run == FIRST_RUN + timedelta(days=7)


async def test_a_quiet_week_posts_one_line_or_nothing(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    await run_jobs(simcord_bot, server, clock, FIRST_RUN)
    quiet = digests.last_message
    assert quiet is not None and quiet.content.startswith(
        "A quiet week in Minimal Synth Society: nothing was shared, swapped or played."
    )
    assert [c.disabled for row in quiet.components for c in row.children] == [True]
    skip = await server.moderator.slash(server.channel, "digest quiet", mode="skip")
    assert answer(skip) == "A quiet week now gets no digest at all."
    await run_jobs(simcord_bot, server, clock, FIRST_RUN + timedelta(days=7))
    assert digests.last_message is not None and digests.last_message.id == quiet.id
    status = await server.moderator.slash(server.channel, "digest status")
    assert "Week 2026-W04: a quiet week, skipped as set." in answer(status)


async def test_a_deleted_channel_tells_the_mod_log_retries_hourly_and_status_says_why(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    mod_log = server.guild.create_text_channel("mod-log")
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    server.env.backend.delete_channel(digests.id)
    await server.env.settle()
    await run_jobs(simcord_bot, server, clock, FIRST_RUN)
    [notice] = [e for m in mod_log.history() for e in m.embeds if e.title == NOTICE_TITLE]
    assert notice.description is not None and notice.description.startswith(
        f"The weekly digest could not be posted. The digest channel (<#{digests.id}>) is gone"
    )
    status = await server.moderator.slash(server.channel, "digest status")
    assert "Last problem" in answer(status) and "is gone" in answer(status)
    assert "**Right now** the digest channel is gone" in answer(status)
    # Fixed within the hour: the retry posts it, marked late, and nothing is told twice.
    clock.advance(timedelta(minutes=20))
    elsewhere = server.guild.create_text_channel("digests-2")
    fixed = await set_up(server, elsewhere)
    assert "The digest that could not be posted is tried again now." in answer(fixed)
    await run_jobs(simcord_bot, server, clock, clock.now())
    [late] = [m for m in elsewhere.history() if m.embeds or m.content]
    assert late.content.startswith(
        f"-# Posted late: this digest was due <t:{int(FIRST_RUN.timestamp())}:F>."
    )
    notices = [e for m in mod_log.history() for e in m.embeds if e.title == NOTICE_TITLE]
    assert len(notices) == 1
    status = await digests_service.status(simcord_bot.db, server.guild.id)
    assert status.next_run == FIRST_RUN + timedelta(days=7)


async def test_three_failed_retries_give_up_tell_the_mod_log_and_plan_next_week(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    mod_log = server.guild.create_text_channel("mod-log")
    await server.moderator.slash(server.channel, "settings mod-log", channel=mod_log)
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    server.env.backend.delete_channel(digests.id)
    await server.env.settle()
    for hours in range(4):
        await run_jobs(simcord_bot, server, clock, FIRST_RUN + timedelta(hours=hours, seconds=1))
    status = await digests_service.status(simcord_bot.db, server.guild.id)
    assert status.last_weekly is not None and status.last_weekly["status"] == "failed"
    assert status.next_run == FIRST_RUN + timedelta(days=7)
    told = [
        e.description or "" for m in mod_log.history() for e in m.embeds if e.title == NOTICE_TITLE
    ]
    assert len(told) == 2  # at the first failure, and when it gave up
    assert any("I tried four times, an hour apart." in text for text in told)
    assert simcord_bot.scheduler.stats.failed == 0  # handled: the job itself completed


async def test_a_post_made_before_the_channel_changed_is_found_not_posted_again(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    first = server.guild.create_text_channel("digests")
    await set_up(server, first)
    await share(simcord_bot, server, "Moin", "Moot")
    await run_jobs(simcord_bot, server, clock, FIRST_RUN)
    assert len(digests_in(first)) == 1
    # As if the post had reached Discord but the bot died before recording it, the job
    # waiting to retry; then a moderator picks another channel.
    async with simcord_bot.db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'pending', posted_id = NULL, last_attempt_at = 0 "
            "WHERE key LIKE 'digest:%'"
        )
        await conn.execute("DELETE FROM digest_posts")
        await conn.execute("DELETE FROM jobs WHERE kind = 'digest.post' AND status = 'pending'")
        await conn.execute(
            "UPDATE jobs SET status = 'pending', attempts = 1 WHERE kind = 'digest.post'"
        )
    second = server.guild.create_text_channel("digests-2")
    moved = await set_up(server, second)
    assert "tried again now" in answer(moved)
    await run_jobs(simcord_bot, server, clock, clock.now() + timedelta(seconds=1))
    assert len(digests_in(first)) == 1 and digests_in(second) == []
    status = await digests_service.status(simcord_bot.db, server.guild.id)
    assert status.last_posted is not None and status.last_posted["channel_id"] == first.id
    assert status.next_run == FIRST_RUN + timedelta(days=7)


async def test_a_restarted_bot_plans_a_digest_that_lost_its_job(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock, db_path: Any
) -> None:
    await set_up(server, server.channel)
    await simcord_bot.scheduler.cancel_guild_jobs(server.guild.id)
    async with restarted_bot(server.env, db_path, clock) as again:
        status = await digests_service.status(again.db, server.guild.id)
        assert status.next_run == FIRST_RUN


async def test_now_posts_an_extra_and_the_weekly_one_still_comes(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    await share(simcord_bot, server, "Moin", "Moot", country="GB")
    refused = await server.member.slash(server.channel, "digest now")
    assert answer(refused) == "You need the **Manage Server** permission to do that."
    simcord.assert_error(server.env, app_commands.MissingPermissions)
    posted = await server.moderator.slash(server.channel, "digest now")
    assert answer(posted).startswith(
        f"Posted: https://discord.com/channels/{server.guild.id}/{digests.id}/"
    )
    [extra] = digests_in(digests)
    assert extra.content == (
        f"-# An extra digest of the last 7 days, asked for by <@{server.moderator.id}>. The "
        "weekly one still comes at its time."
    )
    again = await server.moderator.slash(server.channel, "digest now")
    assert answer(again).startswith("An extra digest was posted <t:")
    simcord.assert_error(server.env, UserError)
    clock.advance(timedelta(minutes=5))
    later = await server.moderator.slash(server.channel, "digest now")
    assert answer(later).startswith("Posted: ")
    await run_jobs(simcord_bot, server, clock, FIRST_RUN)
    assert len(digests_in(digests)) == 3


async def test_preview_is_private_and_sections_turn_parts_off(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    await share(simcord_bot, server, "Moin", "Moot", country="GB")
    preview = await server.member.slash(server.channel, "digest preview")
    assert preview.ephemeral
    message = last(preview)
    assert message.content.startswith("-# Preview of the last 7 days: only you can see this.")
    assert [f.name for f in message.embeds[0].fields] == ["Most loved this week", "New on the map"]
    await set_up(server, server.channel)
    menu = await server.moderator.slash(server.channel, "digest sections")
    assert answer(menu).startswith("The digest shows: **Most loved this week**, **New on the map**")
    chosen = await server.moderator.select(menu.response, values=["loved", "coming"])
    assert chosen.response is not None
    settings = await digests_service.get_settings(simcord_bot.db, server.guild.id)
    assert settings is not None and settings.sections_off == frozenset(
        {"new", "swaps", "parties", "curators", "archive", "chart"}
    )
    preview = await server.member.slash(server.channel, "digest preview")
    assert [f.name for f in last(preview).embeds[0].fields] == ["Most loved this week"]


async def test_off_stops_it_and_status_says_so(
    server: Server, simcord_bot: UndercurrentBot
) -> None:
    refused = await server.member.slash(server.channel, "digest status")
    assert answer(refused) == "This server has no digest yet: start one with `/digest setup`."
    simcord.assert_error(server.env, UserError)
    await set_up(server, server.channel)
    off = await server.moderator.slash(server.channel, "digest off")
    assert answer(off).startswith("The weekly digest is off.")
    status = await server.member.slash(server.channel, "digest status")
    assert answer(status).startswith("**Off** (was <#")
    assert "Next:" not in answer(status)


async def test_late_means_it_could_not_go_at_its_time_not_that_it_queued(
    server: Server, simcord_bot: UndercurrentBot, clock: FakeClock, db_path: Any
) -> None:
    digests = server.guild.create_text_channel("digests")
    await set_up(server, digests)
    await share(simcord_bot, server, "Moin", "Moot")
    # The bot was up all along and got to it five minutes after its time: not late.
    await run_jobs(simcord_bot, server, clock, FIRST_RUN + timedelta(minutes=5))
    [on_time] = digests_in(digests)
    assert on_time.content == ""
    # Next week the bot is down at the time and back twenty minutes later: late, and says so.
    clock.advance(timedelta(days=1))
    await share(simcord_bot, server, "Grouper", "Ruins")
    clock.advance(FIRST_RUN + timedelta(days=7, minutes=20) - clock.now())
    async with restarted_bot(server.env, db_path, clock) as again:
        await again.scheduler.run_due()
        await server.env.settle()
    late = max(digests_in(digests), key=lambda m: m.id)
    due = int((FIRST_RUN + timedelta(days=7)).timestamp())
    assert late.content == f"-# Posted late: this digest was due <t:{due}:F>."
