"""/swap through the real command tree (simcord): the card and its buttons, the join form, the
review form, and refusals named privately."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands

from bot.client import UndercurrentBot
from bot.errors import UserError
from bot.services import swaps as swaps_service
from tests.cogs.conftest import Server
from tests.fakes import FakeClock


@pytest.fixture
def opener(server: Server) -> simcord.MemberActor:
    role = server.guild.create_role("Hosts", permissions=discord.Permissions(manage_events=True))
    return server.guild.add_member(server.env.create_user("lena"), roles=[role])


def labels(message: Any) -> list[str]:
    return [child.label for row in message.components for child in row.children]


def answer(result: simcord.InteractionResult) -> str:
    message = result.followups[-1] if result.followups else result.response
    assert message is not None, "no answer"
    return str(message.content)


def values(modal: dict[str, Any]) -> dict[str, str]:
    return {
        row["components"][0]["custom_id"]: row["components"][0].get("value") or ""
        for row in modal["components"]
    }


async def open_round(server: Server, opener: simcord.MemberActor) -> simcord.InteractionResult:
    return await opener.slash(
        server.channel, "swap open", theme="Cold wave from anywhere",
        join_until="in 2 days", review_until="in 9 days",
    )  # fmt: skip


async def test_opening_posts_the_card_with_join_and_leave(
    server: Server, opener: simcord.MemberActor
) -> None:
    opened = await open_round(server, opener)
    assert answer(opened).startswith("Opened swap round **#1 Cold wave from anywhere**.")
    card = server.channel.last_message
    assert card is not None and card.embeds[0].title == "🔁 Swap round: Cold wave from anywhere"
    assert labels(card) == ["Join", "Leave"]


async def test_a_member_without_manage_events_cannot_open(server: Server) -> None:
    refused = await server.member.slash(
        server.channel, "swap open", theme="x", join_until="in 2 days", review_until="in 9 days"
    )
    assert answer(refused) == "You need the **Manage Events** permission to do that."
    simcord.assert_error(server.env, app_commands.MissingPermissions)


async def test_deadlines_in_the_wrong_order_are_refused(
    server: Server, opener: simcord.MemberActor
) -> None:
    refused = await opener.slash(
        server.channel, "swap open", theme="x", join_until="in 2 days", review_until="in 2 days"
    )
    assert "at least a day after **join_until**" in answer(refused)
    simcord.assert_error(server.env, UserError)


async def test_join_with_a_bad_link_saves_nothing_and_fix_it_keeps_what_was_typed(
    server: Server, opener: simcord.MemberActor, simcord_bot: UndercurrentBot
) -> None:
    await open_round(server, opener)
    form = await server.member.click(server.channel.last_message, label="Join")
    assert form.modal is not None
    typed = values(form.modal) | {
        "artist": "Kas Product",
        "title": "Try Out",
        "link": "javascript:x",
    }
    refused = await server.member.submit_modal(form, typed)
    assert refused.response is not None and refused.response.content.startswith("**link**")
    assert await swaps_service.my_entry(simcord_bot.db, 1, server.member.id) is None
    fix = await server.member.click(refused.response, label="Fix it")
    assert fix.modal is not None and values(fix.modal) == typed
    joined = await server.member.submit_modal(fix, typed | {"link": ""})
    assert joined.response.content.startswith("You're in with **Kas Product — Try Out**.")
    buttons = [c["label"] for row in joined.response.components for c in row["components"]]
    assert buttons == ["Add label, year, place and format", "Leave"]


async def test_reviewing_without_an_assignment_is_refused(
    server: Server, opener: simcord.MemberActor
) -> None:
    await open_round(server, opener)
    refused = await server.member.slash(server.channel, "swap review", rating=4)
    assert answer(refused) == "You have no swap assignment to review right now."
    simcord.assert_error(server.env, UserError)


async def test_leave_withdraws_and_the_review_form_saves_after_pairing(
    server: Server, opener: simcord.MemberActor, simcord_bot: UndercurrentBot, clock: FakeClock
) -> None:
    await open_round(server, opener)
    card = server.channel.last_message
    for member, artist in (
        (server.member, "Kas Product"),
        (server.moderator, "Grouper"),
        (opener, "Moin"),
    ):
        form = await member.click(card, label="Join")
        await member.submit_modal(form, values(form.modal) | {"artist": artist, "title": "LP"})
    left = await opener.click(server.channel.last_message, label="Leave")
    assert answer(left).startswith("You've left the round")
    assert await swaps_service.my_entry(simcord_bot.db, 1, opener.id) is None

    clock.advance(timedelta(days=2, seconds=1))
    paired = await swaps_service.pair(
        simcord_bot.db, simcord_bot.scheduler, 1, gone=[], now=clock.now()
    )
    assert paired.pairing is not None
    await simcord_bot.scheduler.run_due()  # the card (and the assignment DMs) catch up
    assert "Show my assignment" in labels(server.channel.last_message)
    form = await server.member.click(server.channel.last_message, custom_id="uc:swap:review:1:card")
    assert form.modal is not None
    bad = await server.member.submit_modal(
        form, {"rating": "9", "favourite_track": "", "thoughts": ""}
    )
    assert bad.response.content.startswith("**rating** is from 1 to 5.")
    fix = await server.member.click(bad.response, label="Fix it")
    saved = await server.member.submit_modal(
        fix, {"rating": "4", "favourite_track": "Track 2", "thoughts": "Grew on me"}
    )
    assert saved.response.content.startswith("Saved your review of **Grouper — LP**: ★★★★")
    given = await swaps_service.assignment(simcord_bot.db, 1, server.member.id)
    assert given is not None and given.review is not None and given.review.thoughts == "Grew on me"
