"""/party through the real command tree (simcord): who may do what, the card and its buttons,
the tracklist form, and every refusal a private message that names the problem."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands

from bot.client import UndercurrentBot
from bot.domain.tracklist import parse_tracklist
from bot.errors import UserError
from bot.services import parties as parties_service
from tests.cogs.conftest import Server
from tests.fakes import FakeClock


@pytest.fixture
def host(server: Server) -> simcord.MemberActor:
    """A member with Manage Events (hosts parties; moderates none)."""
    role = server.guild.create_role(
        "Party hosts", permissions=discord.Permissions(manage_events=True)
    )
    return server.guild.add_member(server.env.create_user("lena"), roles=[role])


def labels(message: Any) -> list[str]:
    return [child.label for row in message.components for child in row.children]


def modal_values(modal: dict[str, Any]) -> dict[str, str]:
    return {
        row["components"][0]["custom_id"]: row["components"][0].get("value") or ""
        for row in modal["components"]
    }


def answer(result: simcord.InteractionResult) -> str:
    """The private answer, whether sent at once or after a "thinking…" (deferred) reply."""
    message = result.followups[-1] if result.followups else result.response
    assert message is not None, "no answer"
    return str(message.content)


async def schedule(
    server: Server, host: simcord.MemberActor, **options: object
) -> simcord.InteractionResult:
    given: dict[str, object] = {"what": "Slowdive — Souvlaki", "when": "in 2 days"}
    given.update(options)
    return await host.slash(server.channel, "party schedule", **given)


async def test_scheduling_replies_privately_with_the_time_and_posts_the_card(
    server: Server, host: simcord.MemberActor, simcord_bot: UndercurrentBot
) -> None:
    result = await schedule(server, host)
    assert result.ephemeral
    reply = answer(result)
    assert reply.startswith("Scheduled **#1 Slowdive — Souvlaki** for <t:")
    assert ":F> (<t:" in reply and ":R>)" in reply
    assert "UTC (set yours with `/settings timezone`)" in reply
    card = server.channel.last_message
    assert card is not None and card.embeds[0].title == "🎧 Slowdive — Souvlaki"
    assert labels(card)[:3] == ["Going · 0", "Maybe · 0", "Can't · 0"]
    party = await parties_service.get_party(simcord_bot.db, 1, server.guild.id)
    assert party.card_message_id == card.id


async def test_going_counts_on_the_card_and_answers_privately(
    server: Server, host: simcord.MemberActor
) -> None:
    await schedule(server, host)
    card = server.channel.last_message
    clicked = await server.member.click(card, custom_id="uc:party:rsvp:going:1")
    assert clicked.acknowledged
    assert labels(server.channel.last_message)[:3] == ["Going · 1", "Maybe · 0", "Can't · 0"]
    note = clicked.followups[-1]
    assert note.content.startswith(
        "You're going to **Slowdive — Souvlaki**. I'll DM you a reminder"
    )
    await server.member.click(server.channel.last_message, custom_id="uc:party:rsvp:cant:1")
    assert labels(server.channel.last_message)[:3] == ["Going · 0", "Maybe · 0", "Can't · 1"]


async def test_a_member_without_manage_events_cannot_schedule(server: Server) -> None:
    refused = await server.member.slash(
        server.channel, "party schedule", what="Slowdive — Souvlaki", when="in 2 days"
    )
    assert refused.ephemeral
    assert answer(refused) == "You need the **Manage Events** permission to do that."
    simcord.assert_error(server.env, app_commands.MissingPermissions)
    assert server.channel.last_message is None


async def test_a_voice_channel_is_refused_as_the_party_channel(
    server: Server, host: simcord.MemberActor
) -> None:
    voice = server.guild.create_voice_channel("listening-room")
    refused = await schedule(server, host, channel=voice)
    assert refused.ephemeral
    assert "is a voice channel: Discord can't start a party thread in one" in answer(refused)
    simcord.assert_error(server.env, UserError)


@pytest.mark.parametrize(
    "options,message",
    [
        ({"when": "someday"}, "**when**: I can't read `someday`"),
        ({"when": "2020-01-05 21:00"}, "passed"),
        ({"duration": 800}, "A party lasts at most 12 hours; this one would take 13h 20m."),
        ({"repeat": "weekly", "when": "2028-06-01 21:00"}, "more than a year"),
    ],
)
async def test_bad_input_is_a_private_error_naming_the_problem(
    server: Server, host: simcord.MemberActor, options: dict[str, object], message: str
) -> None:
    refused = await schedule(server, host, **options)
    assert refused.ephemeral
    text = answer(refused)
    assert message in text
    simcord.assert_error(server.env, UserError)
    assert server.channel.last_message is None


async def test_another_members_party_is_not_theirs_to_edit(
    server: Server, host: simcord.MemberActor
) -> None:
    await schedule(server, host)
    refused = await server.member.slash(
        server.channel, "party edit", party=1, description="mine now"
    )
    assert refused.ephemeral
    text = answer(refused)
    simcord.assert_error(server.env, UserError)
    assert text.startswith(f"Only the host (<@{host.id}>) or a member with Manage Events can edit")


async def test_a_bad_tracklist_saves_nothing_and_fix_it_reopens_what_was_typed(
    server: Server, host: simcord.MemberActor, simcord_bot: UndercurrentBot
) -> None:
    await schedule(server, host)
    form = await host.slash(server.channel, "party tracklist", party=1)
    assert form.modal is not None
    typed = modal_values(form.modal) | {"part1": "Alison 3:50\nMachine Gun four minutes"}
    refused = await host.submit_modal(form, typed)
    assert refused.ephemeral and refused.response is not None
    assert "• part 1, line 2: `Machine Gun four minutes` needs a length" in refused.response.content
    assert await parties_service.tracklist_text(simcord_bot.db, server.guild.id, 1) == []
    fix = await host.click(refused.response, label="Fix it")
    assert fix.modal is not None and modal_values(fix.modal) == typed
    saved = await host.submit_modal(fix, typed | {"part1": "Alison 3:50\nMachine Gun 4:28"})
    assert saved.response is not None
    assert saved.response.content.startswith(
        "Saved the tracklist of **#1 Slowdive — Souvlaki**: 2 tracks, 8:18"
    )
    tracklist_field = server.channel.last_message.embeds[0].fields[4]
    assert tracklist_field.value == "2 tracks · 8:18"


async def test_reminders_off_and_on(server: Server, simcord_bot: UndercurrentBot) -> None:
    off = await server.member.slash(server.channel, "party reminders", state="off")
    assert off.ephemeral and off.response.content.startswith("Party reminders are off")
    assert not await parties_service.reminders_on(simcord_bot.db, server.guild.id, server.member.id)
    again = await server.member.slash(server.channel, "party reminders", state="off")
    assert again.response.content.startswith("Already so.")
    await server.member.slash(server.channel, "party reminders", state="on")
    assert await parties_service.reminders_on(simcord_bot.db, server.guild.id, server.member.id)


async def test_the_calendar_is_an_ics_file_of_the_upcoming_parties(
    server: Server, host: simcord.MemberActor
) -> None:
    await schedule(server, host)
    result = await server.member.slash(server.channel, "party calendar")
    assert result.ephemeral and result.response is not None
    assert result.response.content.startswith("1 upcoming party.")
    mine = await server.member.slash(server.channel, "party calendar", mine=True)
    assert mine.response.content.startswith("0 upcoming parties you said Going or Maybe to.")


async def test_now_for_a_party_that_is_not_here_says_so(server: Server) -> None:
    refused = await server.member.slash(server.channel, "party now", party=999)
    assert answer(refused) == "There is no party #999 here."
    simcord.assert_error(server.env, UserError)


async def test_the_replay_shows_every_track_however_long_their_notes(
    server: Server, host: simcord.MemberActor, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    await schedule(server, host, when="in 1 hour")
    note = "a long note " * 24
    lines = [f"Track number {n} with a rather long title {n} 1:00 | {note}" for n in range(1, 31)]
    tracklist = parse_tracklist(
        ["\n".join(lines[:10]), "\n".join(lines[10:20]), "\n".join(lines[20:])]
    )
    party = await parties_service.set_tracklist(
        simcord_bot.db, guild_id=server.guild.id, party_id=1, user_id=host.id,
        manages_events=True, tracklist=tracklist, now=clock.now(), scheduler=simcord_bot.scheduler,
    )  # fmt: skip
    clock.advance(timedelta(hours=1))
    started, _, _ = await parties_service.mark_started(
        simcord_bot.db, simcord_bot.scheduler, party, clock.now()
    )
    await parties_service.mark_ended(
        simcord_bot.db, started, reactions={}, writers=0, now=clock.now()
    )

    shown = await server.member.slash(server.channel, "party replay", party=1)
    descriptions = []
    while True:
        page = shown.response
        assert page is not None and page.ephemeral
        embed = page.embeds[0]
        descriptions.append(embed.description or "")
        number, total = embed.footer.text.rsplit("page ", 1)[1].split(" of ")
        if number == total:
            break
        await server.member.click(page, label="Next")
    assert int(total) > 2  # the recap, then the tracks over several pages
    text = "\n".join(descriptions[1:])
    assert [n for n in range(1, 31) if f"**{n}.** Track number {n} " not in text] == []
    assert all(len(description) <= 4096 for description in descriptions)


async def test_a_channel_the_bot_cannot_post_in_is_refused_naming_what_is_missing(
    server: Server, host: simcord.MemberActor
) -> None:
    me = server.guild.me
    assert me is not None
    closed = server.guild.create_text_channel(
        "announcements",
        overwrites={
            me: discord.PermissionOverwrite(send_messages=False, send_messages_in_threads=False)
        },
    )
    refused = await schedule(server, host, channel=closed)
    assert answer(refused) == (
        f"I can't run a party in <#{closed.id}>: I need **Send Messages**, **Embed Links**, "
        "**Send Messages in Threads** there."
    )
    simcord.assert_error(server.env, UserError)
    assert closed.last_message is None


async def test_the_list_shows_whats_coming_with_counts(
    server: Server, host: simcord.MemberActor
) -> None:
    await schedule(server, host)
    await server.member.click(server.channel.last_message, custom_id="uc:party:rsvp:maybe:1")
    listed = await server.member.slash(server.channel, "party list")
    assert listed.ephemeral
    description = listed.response.embeds[0].description
    assert "**#1** [Slowdive — Souvlaki](" in description and "Going 0 · Maybe 1" in description
